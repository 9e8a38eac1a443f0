"""INT / MONEY / YEAR columns: strip units and thousands separators, parse, range-check."""

from __future__ import annotations

import polars as pl

from schemas.columns import Kind
from schemas.normalise import squeeze

NOT_A_NUMBER = "not_a_number"
NOT_AN_INTEGER = "not_an_integer"
OUT_OF_RANGE = "out_of_range"

# Units people append to a figure (元, 人, 口, 年 ...) and currency signs; NFKC made ，→ , already.
_DECORATION = r"[,¥￥$]|元|人|口|户|岁|年|度"  # not 万元: dropping it would shrink the figure
_YEARS = (1900, 2100)


def _number(col: str | pl.Expr) -> pl.Expr:
    text = squeeze(col).str.replace_all(_DECORATION, "")
    value = text.cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


def _is_integral(value: pl.Expr) -> pl.Expr:
    return (value == value.round(0)) & value.abs().lt(2**31)


def expr(col: str | pl.Expr, kind: Kind) -> pl.Expr:
    """Float64 for MONEY, Int32 for INT and YEAR (a year outside 1900..2100 is null)."""
    value = _number(col)
    if kind == Kind.MONEY:
        return value
    integral = pl.when(_is_integral(value)).then(value).cast(pl.Int32)
    if kind == Kind.YEAR:
        return pl.when(integral.is_between(*_YEARS)).then(integral)
    return integral


def reason(col: str | pl.Expr, kind: Kind) -> pl.Expr:
    text = squeeze(col)
    value = _number(col)
    reasons = pl.when(text.is_null()).then(None).when(value.is_null()).then(pl.lit(NOT_A_NUMBER))
    if kind == Kind.MONEY:
        return reasons
    reasons = reasons.when(~_is_integral(value)).then(pl.lit(NOT_AN_INTEGER))
    if kind == Kind.YEAR:
        reasons = reasons.when(~value.is_between(*_YEARS)).then(pl.lit(OUT_OF_RANGE))
    return reasons
