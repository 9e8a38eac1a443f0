"""Dates as departments type them, vectorised.

Every textual format is reduced to year / month / day digits by one regex
(``YYYYMMDD`` is first given separators), re-rendered as ``YYYY-MM-DD`` and
parsed once with ``strict=False``: a shape that parses is a date, a shape
that does not is an impossible date (2023-02-30, month 13), no shape at all
is unparseable. Excel serial numbers count days from 1899-12-30 (Excel's
1900 leap-year bug folded in).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from schemas.normalise import (
    ATYPICAL, Fast, Stages, clean, days_from_civil, fixed_width_rows, flag, is_calendar_date, series_stages, temp,
)

IMPOSSIBLE = "impossible_date"
UNPARSEABLE = "unparseable_date"
YEARS = (1900, 2099)  # year 0001 parses, but no register holds such a date

_TIME = r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
_COMPACT = rf"^([0-9]{{4}})([0-9]{{2}})([0-9]{{2}})({_TIME})$"
# YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYY年M月D日, each with an optional time part.
_SEPARATED = rf"^([0-9]{{4}})\s*[-/.年]\s*([0-9]{{1,2}})\s*[-/.月]\s*([0-9]{{1,2}})\s*[日号]?{_TIME}$"
# Serials of 4-5 digits cover 1902..2173; a bare 19xx/20xx is a year, not a serial.
_SERIAL = r"^[0-9]{4,5}(?:\.[0-9]+)?$"
_YEAR = r"^(?:19|20)[0-9]{2}$"
_EXCEL_EPOCH_TO_UNIX = 25569  # serial of 1970-01-01


def normalise(col: str, out: str | None = None) -> Stages:
    """Stages producing ``out`` (``pl.Date``) and ``out__flag`` (impossible / unparseable)."""
    out = out or col
    text, parts, iso, serial = (pl.col(temp(out, n)) for n in ("text", "parts", "iso", "serial"))
    is_serial = text.str.contains(_SERIAL) & ~text.str.contains(_YEAR)
    days = text.str.extract(r"^([0-9]+)").str.to_integer(strict=False) - _EXCEL_EPOCH_TO_UNIX
    parsed = pl.coalesce(iso.str.strptime(pl.Date, "%Y-%m-%d", strict=False), serial)
    value = pl.col(out)
    return [
        {temp(out, "text"): clean(col)},
        {temp(out, "parts"): text.str.replace(_COMPACT, "${1}-${2}-${3}${4}").str.extract_groups(_SEPARATED),
         temp(out, "serial"): pl.when(is_serial).then(days.cast(pl.Int32).cast(pl.Date))},
        {temp(out, "iso"): pl.concat_str(parts.struct.field("1"), pl.lit("-"), parts.struct.field("2").str.zfill(2),
                                         pl.lit("-"), parts.struct.field("3").str.zfill(2))},
        {out: pl.when(parsed.dt.year().is_between(*YEARS)).then(parsed)},
        {temp(out, "flag"): flag(out, pl.when(text.is_null() | value.is_not_null()).then(None)
                                 .when(iso.is_not_null() | serial.is_not_null()).then(pl.lit(IMPOSSIBLE))
                                 .otherwise(pl.lit(UNPARSEABLE)))},
    ]


_DASH = ord("-")
_DIGIT = np.uint8(ord("0"))


def _fast(series: pl.Series, out: str) -> pl.DataFrame:
    """``out``, ``out__flag`` and ``atypical`` (see :func:`fast`)."""
    blank, rows = fixed_width_rows(series, 10)
    positions, written = rows[10]
    digit = {k: written[:, k] - _DIGIT for k in (0, 1, 2, 3, 5, 6, 8, 9)}
    iso = (written[:, 4] == _DASH) & (written[:, 7] == _DASH)
    for value in digit.values():
        iso &= value <= 9
    positions = positions[iso]
    number = {k: d[iso].astype(np.int32) for k, d in digit.items()}
    year = number[0] * 1000 + number[1] * 100 + number[2] * 10 + number[3]
    month, day = number[5] * 10 + number[6], number[8] * 10 + number[9]
    is_date = (year >= YEARS[0]) & (year <= YEARS[1]) & is_calendar_date(year, month, day)
    days = np.zeros(series.len(), dtype=np.int32)
    days[positions] = np.where(is_date, days_from_civil(year, month, day), 0)
    state = np.zeros(series.len(), dtype=np.uint32)  # 0 atypical, 1 a date, 2 impossible, 3 blank
    state[blank] = 3
    state[positions] = np.where(is_date, 1, 2)
    code = pl.Series(state)
    return pl.select(**{
        out: pl.when(pl.lit(code == 1)).then(pl.lit(pl.Series(days).cast(pl.Date))),
        temp(out, "flag"): pl.lit(pl.Series([None, None, f"{out}:{IMPOSSIBLE}", None], dtype=pl.String).gather(code)),
        ATYPICAL: pl.lit(code == 0),
    })


def fast(col: str, out: str | None = None) -> Fast:
    """:func:`normalise` for dates written ``YYYY-MM-DD`` in ASCII (most), checked in numpy: for them the
    reference's cleaning and reshaping change nothing, and its parse succeeds exactly for calendar
    dates. The others (other separators, 年月日, compact, Excel serials, junk) are atypical; dates
    repeat, so they are recomputed once per distinct value."""
    out = out or col
    return Fast(series_stages(col, out, lambda series: _fast(series, out),
                              {out: pl.Date(), temp(out, "flag"): pl.String()}), distinct=True)
