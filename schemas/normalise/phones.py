"""Mobile phone numbers: 11 digits ``1[3-9]xxxxxxxxx`` after stripping decoration."""

from __future__ import annotations

import polars as pl

from schemas.normalise import squeeze

INVALID = "invalid_phone"
_MOBILE = r"^1[3-9][0-9]{9}$"


def _digits(col: str | pl.Expr) -> pl.Expr:
    text = squeeze(col).str.replace_all(r"[-()\[\]]", "")
    # Excel stores a phone typed as a number and gives it back as 13812345678.0.
    text = text.str.replace(r"^([0-9]{11})\.0+$", "${1}")
    return text.str.replace(r"^(?:\+?0{0,2}86)(1[0-9]{10})$", "${1}")


def expr(col: str | pl.Expr) -> pl.Expr:
    digits = _digits(col)
    return pl.when(digits.str.contains(_MOBILE)).then(digits)


def reason(col: str | pl.Expr) -> pl.Expr:
    digits = _digits(col)
    return pl.when(digits.is_not_null() & ~digits.str.contains(_MOBILE)).then(pl.lit(INVALID))
