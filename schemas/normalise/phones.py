"""Mobile phone numbers: 11 digits ``1[3-9]xxxxxxxxx`` after stripping decoration."""

from __future__ import annotations

import polars as pl

from schemas.normalise import ATYPICAL, Fast, Stages, flag, squeeze, temp

INVALID = "invalid_phone"
_MOBILE = r"^1[3-9][0-9]{9}$"


def _digits(col: str | pl.Expr) -> pl.Expr:
    text = squeeze(col).str.replace_all(r"[-()\[\]]", "")
    # Excel stores a phone typed as a number and gives it back as 13812345678.0.
    text = text.str.replace(r"^([0-9]{11})\.0+$", "${1}")
    return text.str.replace(r"^(?:\+?0{0,2}86)(1[0-9]{10})$", "${1}")


def normalise(col: str, out: str | None = None) -> Stages:
    """Stages producing ``out`` (11-digit mobile or null) and ``out__flag``."""
    out = out or col
    digits = pl.col(temp(out, "digits"))
    mobile = digits.str.contains(_MOBILE)
    return [
        {temp(out, "digits"): _digits(col)},
        {out: pl.when(mobile).then(digits),
         temp(out, "flag"): flag(out, pl.when(digits.is_not_null() & ~mobile).then(pl.lit(INVALID)))},
    ]


def fast(col: str, out: str | None = None) -> Fast:
    """:func:`normalise` for mobile numbers written as their 11 ASCII digits (most): the reference leaves
    them as they are. The others (spaces, dashes, +86, Excel's .0, junk) are atypical."""
    out = out or col
    raw = pl.col(col)
    return Fast([{out: raw, temp(out, "flag"): pl.lit(None, dtype=pl.String),
                  temp(out, ATYPICAL): raw.is_not_null() & ~raw.str.contains(_MOBILE)}])
