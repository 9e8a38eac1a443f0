"""INT / MONEY / YEAR columns: strip units and thousands separators, parse, range-check."""

from __future__ import annotations

import polars as pl

from schemas.columns import Kind
from schemas.normalise import ATYPICAL, Fast, Stages, flag, squeeze, temp

NOT_A_NUMBER = "not_a_number"
NOT_AN_INTEGER = "not_an_integer"
OUT_OF_RANGE = "out_of_range"

# Units people append to a figure and currency signs; NFKC made ，into , already.
# Not 万元: dropping it would silently shrink the figure ten-thousandfold.
_DECORATION = r"[,¥￥$]|元|人|口|户|岁|年|度"
YEARS = (1900, 2100)


def normalise(col: str, kind: Kind, out: str | None = None) -> Stages:
    """Stages producing ``out`` (Float64 for MONEY, Int32 for INT / YEAR) and ``out__flag``."""
    out = out or col
    text, number = pl.col(temp(out, "text")), pl.col(temp(out, "number"))
    integral = (number == number.round(0)) & (number.abs() < 2**31)
    if kind == Kind.MONEY:
        value, problem = number, None
    elif kind == Kind.INT:
        value = pl.when(integral).then(number).cast(pl.Int32)
        problem = pl.when(~integral).then(pl.lit(NOT_AN_INTEGER))
    elif kind == Kind.YEAR:
        value = pl.when(integral & number.is_between(*YEARS)).then(number).cast(pl.Int32)
        problem = pl.when(~integral).then(pl.lit(NOT_AN_INTEGER)).when(~number.is_between(*YEARS)).then(pl.lit(OUT_OF_RANGE))
    else:
        raise ValueError(f"not a numeric kind: {kind}")
    reason = pl.when(text.is_null()).then(None).when(number.is_null()).then(pl.lit(NOT_A_NUMBER))
    if problem is not None:
        reason = pl.coalesce(reason, problem)
    parsed = text.cast(pl.Float64, strict=False)
    return [
        {temp(out, "text"): squeeze(col).str.replace_all(_DECORATION, "")},
        {temp(out, "number"): pl.when(parsed.is_finite()).then(parsed)},
        {out: value, temp(out, "flag"): flag(out, reason)},
    ]


def fast(col: str, kind: Kind, out: str | None = None) -> Fast:
    """:func:`normalise` for text polars reads as a number as it is (ASCII digits, sign, point, exponent,
    inf/nan): it has no space, no full-width character and no unit or currency sign, so the
    reference's first stage leaves it as it is. The others are atypical."""
    out = out or col
    raw = pl.col(col)
    return Fast([{temp(out, "text"): raw,
                  temp(out, ATYPICAL): raw.is_not_null() & raw.cast(pl.Float64, strict=False).is_null()},
                 *normalise(col, kind, out)[1:]])
