"""Village codes: check the given code against the gazetteer, else read the village from the address.

The gazetteer (``schemas/reference/villages.csv``) lists every village of the
counties that send extracts. A given 12-digit code is kept when it exists
there. Otherwise the address is searched for village names; township and
county names written in the address must agree with the candidate, and the
file's county breaks remaining ties. Only a single remaining village is
accepted: village names repeat across townships and counties.

Address matching is Python per *distinct* address (:func:`map_distinct`),
restricted to the rows whose code is unusable.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import polars as pl

from schemas.normalise import (
    ATYPICAL, EXCEL_DECIMAL, EXCEL_E_NOTATION, Fast, Stages, clean, flag, flag_list, map_distinct, squeeze, temp,
)

GAZETTEER = Path(__file__).resolve().parent.parent / "reference" / "villages.csv"

# given-code statuses
BLANK, VALID, UNKNOWN, EXCEL_DAMAGED, MALFORMED = "blank", "valid", "unknown", "excel_damaged", "malformed"
# address outcomes (flags)
AMBIGUOUS = "ambiguous_village"
NOT_FOUND = "village_not_found"
MISSING = "missing"
SOURCE_GIVEN, SOURCE_ADDRESS = "given", "address"


@dataclass(frozen=True)
class Village:
    code: str
    county: str
    township: str
    village: str


# eq=False: hashed by identity, so the per-gazetteer caches below cost nothing per call.
@dataclass(frozen=True, eq=False)
class Gazetteer:
    villages: tuple[Village, ...]

    @property
    def codes(self) -> frozenset[str]:
        return _codes(self)

    def by_name(self, village: str) -> list[Village]:
        return _by_name(self).get(village, [])


@cache
def _codes(gazetteer: Gazetteer) -> frozenset[str]:
    return frozenset(v.code for v in gazetteer.villages)


@cache
def _by_name(gazetteer: Gazetteer) -> dict[str, list[Village]]:
    index: dict[str, list[Village]] = {}
    for village in gazetteer.villages:
        index.setdefault(village.village, []).append(village)
    return index


def _alternation(names: set[str]) -> re.Pattern[str]:
    # Longest first so 新营坝村 wins over 营坝村 at the same position.
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))


@cache
def load_gazetteer(path: Path = GAZETTEER) -> Gazetteer:
    with path.open(encoding="utf-8-sig") as handle:
        rows = [Village(r["village_code"].strip(), r["county"].strip(), r["township"].strip(), r["village"].strip())
                for r in csv.DictReader(handle)]
    return Gazetteer(tuple(rows))


@cache
def _patterns(gazetteer: Gazetteer) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    return (
        _alternation({v.village for v in gazetteer.villages}),
        _alternation({v.township for v in gazetteer.villages}),
        _alternation({v.county for v in gazetteer.villages}),
    )


def gazetteer_frame() -> pl.DataFrame:
    """The gazetteer as a frame (code, county name, township, village)."""
    return pl.DataFrame([v.__dict__ for v in load_gazetteer().villages], schema={
        "code": pl.String, "county": pl.String, "township": pl.String, "village": pl.String})


@lru_cache(maxsize=1 << 18)
def village_from_address(address: str, county_hint: str | None = None) -> str:
    """The 12-digit code of the one village the address names, else ``ambiguous_village`` / ``village_not_found``."""
    return resolve_address(address, county_hint, load_gazetteer())


def resolve_address(address: str, county_hint: str | None, gazetteer: Gazetteer) -> str:
    """:func:`village_from_address` against any gazetteer (uncached)."""
    village_re, township_re, county_re = _patterns(gazetteer)
    candidates = [v for name in set(village_re.findall(address)) for v in gazetteer.by_name(name)]
    if not candidates:
        return NOT_FOUND
    # A township or county written in the address is a fact about this row: it must agree.
    townships = set(township_re.findall(address))
    if townships:
        candidates = [v for v in candidates if v.township in townships]
    counties = set(county_re.findall(address))
    if counties:
        candidates = [v for v in candidates if v.county in counties]
    if not candidates:
        return NOT_FOUND
    # The file's county only breaks ties: a file may cover several counties.
    if county_hint and len({v.code for v in candidates}) > 1:
        in_county = [v for v in candidates if v.code.startswith(county_hint)]
        candidates = in_county or candidates
    codes = {v.code for v in candidates}
    return codes.pop() if len(codes) == 1 else AMBIGUOUS


def _given_text(col: str) -> pl.Expr:
    text = squeeze(col).str.strip_chars_start("'")
    # 12 digits are exactly representable as an Excel number, so "529901100200.0" lost nothing.
    return text.str.replace(r"^([0-9]{12})\.0+$", "${1}")


def normalise(
    col: str, address: str | None = None, county_hint: str | None = None, out: str | None = None
) -> Stages:
    """Stages producing ``out`` (a gazetteer code or null), ``out_source`` (given / address / null) and
    ``out__flags`` (a list: a damaged code and an ambiguous address are two separate problems)."""
    out = out or col
    given, status, found = (pl.col(temp(out, n)) for n in ("given", "status", "found"))
    address_text = clean(address) if address is not None else pl.lit(None, dtype=pl.String)
    needs_address = pl.when(status != VALID).then(pl.col(temp(out, "address")))
    address_code = pl.when(found.str.contains(r"^[0-9]{12}$")).then(found)
    given_problem = pl.when(status.is_in([UNKNOWN, EXCEL_DAMAGED, MALFORMED])).then(status)
    address_problem = (
        pl.when(status == VALID).then(None)
        .when(found.is_in([AMBIGUOUS, NOT_FOUND])).then(found)
        .when((status == BLANK) & pl.col(temp(out, "address")).is_null()).then(pl.lit(MISSING))
    )
    return [
        {temp(out, "given"): _given_text(col), temp(out, "address"): address_text},
        {temp(out, "status"): pl.when(given.is_null()).then(pl.lit(BLANK))
            .when(given.is_in(sorted(load_gazetteer().codes))).then(pl.lit(VALID))
            .when(given.str.contains(r"^[0-9]{12}$")).then(pl.lit(UNKNOWN))
            .when(given.str.contains(EXCEL_E_NOTATION) | given.str.contains(EXCEL_DECIMAL)).then(pl.lit(EXCEL_DAMAGED))
            .otherwise(pl.lit(MALFORMED))},
        # Only rows without a usable code reach the matcher, and each distinct address once.
        {temp(out, "found"): map_distinct(needs_address, lambda text: village_from_address(text, county_hint))},
        {out: pl.when(status == VALID).then(given).otherwise(address_code),
         f"{out}_source": pl.when(status == VALID).then(pl.lit(SOURCE_GIVEN))
            .when(address_code.is_not_null()).then(pl.lit(SOURCE_ADDRESS)),
         temp(out, "flags"): flag_list([flag(out, given_problem), flag(out, address_problem)])},
    ]


def fast(col: str, out: str | None = None) -> Fast:
    """:func:`normalise` for codes written exactly as a gazetteer code (most): valid as they are, given,
    no flags. The others (blank, damaged, unknown: the address decides) are atypical. ``out__flags`` is
    written as :func:`flags_text` of the reference's list."""
    out = out or col
    codes = pl.Series(sorted(load_gazetteer().codes), dtype=pl.String)
    raw = pl.col(col)
    # The flags as one text (see flags_text): no flags is null, cheaper to carry and patch than a list.
    return Fast([{out: raw, f"{out}_source": pl.lit(SOURCE_GIVEN), temp(out, "flags"): pl.lit(None, dtype=pl.String),
                  temp(out, ATYPICAL): ~raw.is_in(codes.implode()).fill_null(False)}])
