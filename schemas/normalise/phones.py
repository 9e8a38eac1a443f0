"""Mobile phone numbers: 11 digits ``1[3-9]xxxxxxxxx`` after stripping decoration."""

from __future__ import annotations

import numpy as np
import polars as pl

from schemas.normalise import Stages, fixed_width_bytes, flag, squeeze, temp, with_reference_where

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


def normalise_series(series: pl.Series, out: str) -> pl.DataFrame:
    """``out`` and ``out__flag`` exactly as :func:`normalise` gives them.

    A mobile number written as its 11 ASCII digits (most) is already what the reference makes of it;
    the others (spaces, dashes, +86, Excel's .0, junk) go through the reference stages.
    """
    positions, written = fixed_width_bytes(series, 11)
    digits = written - np.uint8(ord("0"))
    mobile = (digits[:, 0] == 1) & (digits[:, 1] >= 3) & (digits[:, 1] <= 9)
    for k in range(2, 11):
        mobile &= digits[:, k] <= 9
    left = series.is_not_null().to_numpy()
    left[positions[mobile]] = False
    fast = pl.DataFrame({out: series, temp(out, "flag"): pl.repeat(None, series.len(), dtype=pl.String, eager=True)})
    return with_reference_where(fast, pl.Series(left), series.to_frame(out), normalise(out))
