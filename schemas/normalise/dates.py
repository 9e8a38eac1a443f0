"""Dates as departments type them, vectorised.

Every textual format is first reduced to year / month / day digits by one
regex, re-rendered as ``YYYY-MM-DD`` and parsed once with ``strict=False``:
a shape that parses is a date, a shape that does not is an impossible date
(2023-02-30, month 13), no shape at all is unparseable. Excel serial numbers
count days from 1899-12-30 (Excel's 1900 leap-year bug folded in).
"""

from __future__ import annotations

import polars as pl

from schemas.normalise import clean

IMPOSSIBLE = "impossible_date"
UNPARSEABLE = "unparseable_date"

_TIME = r"(?:[ T][0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"
# YYYY-MM-DD, YYYY/M/D, YYYY.M.D, YYYY年M月D日 (with an optional time part), or YYYYMMDD.
_SEPARATED = rf"^([0-9]{{4}})\s*[-/.年]\s*([0-9]{{1,2}})\s*[-/.月]\s*([0-9]{{1,2}})\s*[日号]?{_TIME}$"
_COMPACT = rf"^([0-9]{{4}})([0-9]{{2}})([0-9]{{2}}){_TIME}$"
# Serials of 4-5 digits cover 1902..2173; a bare 19xx/20xx is a year, not a serial.
_SERIAL = r"^[0-9]{4,5}(?:\.[0-9]+)?$"
_YEAR = r"^(?:19|20)[0-9]{2}$"
_EXCEL_EPOCH_TO_UNIX = 25569  # serial of 1970-01-01


def _iso_text(text: pl.Expr) -> pl.Expr:
    """``YYYY-MM-DD`` from any separated or compact format, null when the shape does not fit."""
    separated = text.str.extract_groups(_SEPARATED)
    compact = text.str.extract_groups(_COMPACT)
    year = pl.coalesce(separated.struct.field("1"), compact.struct.field("1"))
    month = pl.coalesce(separated.struct.field("2"), compact.struct.field("2"))
    day = pl.coalesce(separated.struct.field("3"), compact.struct.field("3"))
    return pl.concat_str(year, pl.lit("-"), month.str.zfill(2), pl.lit("-"), day.str.zfill(2))


def _is_serial(text: pl.Expr) -> pl.Expr:
    return text.str.contains(_SERIAL) & ~text.str.contains(_YEAR)


def _from_serial(text: pl.Expr) -> pl.Expr:
    days = text.str.extract(r"^([0-9]+)").str.to_integer(strict=False) - _EXCEL_EPOCH_TO_UNIX
    return pl.when(_is_serial(text)).then(days.cast(pl.Int32).cast(pl.Date))


def expr(col: str | pl.Expr) -> pl.Expr:
    """The parsed ``pl.Date`` or null (blank, impossible or unparseable)."""
    text = clean(col)
    parsed = pl.coalesce(_iso_text(text).str.strptime(pl.Date, "%Y-%m-%d", strict=False), _from_serial(text))
    # Year 0001 parses, but no register holds such a date: treat it as impossible.
    return pl.when(parsed.dt.year().is_between(1900, 2099)).then(parsed)


def reason(col: str | pl.Expr) -> pl.Expr:
    """``impossible_date`` / ``unparseable_date`` for a non-blank value that gives no date, else null."""
    text = clean(col)
    iso = _iso_text(text)
    return (
        pl.when(text.is_null() | expr(col).is_not_null())
        .then(None)
        .when(iso.is_not_null() | _is_serial(text))
        .then(pl.lit(IMPOSSIBLE))
        .otherwise(pl.lit(UNPARSEABLE))
    )
