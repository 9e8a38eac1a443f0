"""Dates as departments type them, vectorised.

Every textual format is reduced to year / month / day digits by one regex
(``YYYYMMDD`` is first given separators), re-rendered as ``YYYY-MM-DD`` and
parsed once with ``strict=False``: a shape that parses is a date, a shape
that does not is an impossible date (2023-02-30, month 13), no shape at all
is unparseable. Excel serial numbers count days from 1899-12-30 (Excel's
1900 leap-year bug folded in).
"""

from __future__ import annotations

import polars as pl

from schemas.normalise import Stages, clean, flag, temp

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
