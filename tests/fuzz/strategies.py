"""Hypothesis strategies for department values: arbitrary unicode mixed with near-valid shapes."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from schemas.normalise.id_number import check_char
from schemas.normalise.villages import load_gazetteer

VILLAGES = sorted(load_gazetteer().codes)
ALIVE = (date(1900, 1, 1), date(2099, 12, 31))


@st.composite
def valid_ids(draw) -> str:
    county = draw(st.sampled_from(VILLAGES))[:6]
    born = draw(st.dates(*ALIVE))
    first17 = f"{county}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    return first17 + check_char(first17)


def _variants(id_number: str) -> st.SearchStrategy[str]:
    """How departments write a valid ID: as is, lower x, full-width, spaced, with an Excel apostrophe."""
    fullwidth = id_number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    spaced = " ".join([id_number[:6], id_number[6:14], id_number[14:]])
    return st.sampled_from([id_number, id_number.lower(), fullwidth, spaced, "'" + id_number, f" {id_number}\u3000"])


written_ids = valid_ids().flatmap(_variants)

@st.composite
def legacy_ids(draw) -> str:
    """15-digit IDs (before 1999): county, YYMMDD of a 19xx birth, 3-digit sequence, no check character."""
    born = draw(st.dates(date(1900, 1, 1), date(1999, 12, 31)))
    return f"{draw(st.sampled_from(VILLAGES))[:6]}{born:%y%m%d}{draw(st.integers(0, 999)):03d}"


legacy_ids = legacy_ids()
digits = st.text("0123456789", min_size=1, max_size=20)
dates_written = st.dates(*ALIVE).flatmap(lambda d: st.sampled_from([
    d.isoformat(), f"{d.year}/{d.month}/{d.day}", f"{d:%Y%m%d}", f"{d.year}年{d.month}月{d.day}日",
    f"{d.isoformat()} 00:00:00", str((d - date(1899, 12, 30)).days)]))
phones = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True).flatmap(lambda p: st.sampled_from([
    p, f"+86{p}", f"{p[:3]} {p[3:7]} {p[7:]}", f"{p[:3]}-{p[3:7]}-{p[7:]}", f"{p}.0"]))
chinese = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=4)
names_written = st.tuples(chinese, st.sampled_from(["", " ", "·", ".", "•", "\u3000"]), chinese).map("".join)
anything = st.text(max_size=24)


def cell_values(*shaped: st.SearchStrategy[str]) -> st.SearchStrategy[str | None]:
    """None, blanks, arbitrary unicode, and the given near-valid shapes."""
    return st.one_of(st.none(), st.sampled_from(["", " ", "\u3000", "\t", "nan", "NULL", "-"]), anything, digits,
                     *shaped)


any_value = cell_values(written_ids, legacy_ids, dates_written, phones, names_written, st.sampled_from(VILLAGES))
