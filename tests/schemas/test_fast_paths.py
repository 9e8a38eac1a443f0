"""The fast paths of ``schemas.validate`` give exactly what the reference normalisers give.

Each kind's normaliser (``field_stages``) is the reference: stages that every value goes through.
Ingestion uses ``field_frame``, which skips the stages that change nothing for values already
written the usual way and hands every other value to the reference. These tests feed both the
usual shapes, the shapes next to them (one character off, another script, another width) and
arbitrary text, and compare every output column, flags included.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from polars.testing import assert_frame_equal

from schemas.columns import Kind
from schemas.departments import DEPARTMENTS, columns
from schemas.normalise import flag_list, flags_text, merge, run, temp
from schemas.normalise.id_number import check_char
from schemas.normalise.names import surname_readings
from schemas.normalise.villages import load_gazetteer
from schemas.validate import FileMeta, accepted_schema, field_frame, field_stages, validate

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VILLAGES = sorted(load_gazetteer().codes)
ADDRESS = "address"
HINT = "529901"


def reference(spec, values: list, addresses: list | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(fast, reference) outputs of one field on ``values``."""
    frame = pl.DataFrame({spec.name: values, ADDRESS: addresses or [None] * len(values)},
                         schema={spec.name: pl.String, ADDRESS: pl.String})
    address = ADDRESS if spec.kind == Kind.VILLAGE_CODE else None
    fast = field_frame(spec, frame, address, HINT)
    expected = run(frame, field_stages(spec, address, HINT), keep_temporaries=True).select(fast.columns)
    return fast, expected


def spec_of(kind: Kind, department: str = "education", name: str | None = None):
    return next(s for s in columns(department) if s.kind == kind and (name is None or s.name == name))


# -- values: the usual shapes, their neighbours, and anything ---------------------------------------------

anything = st.one_of(st.none(), st.sampled_from(["", " ", "\u3000", "\t", "-", "nan", "NULL"]), st.text(max_size=20))
digit_text = st.text("0123456789", min_size=1, max_size=20)
fullwidth = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789XxABCabc-/."})


def mutations(text: str) -> st.SearchStrategy[str]:
    """``text`` as is and one character away from it (changed, dropped, doubled), or full-width, padded, cased."""
    if not text:
        return st.just(text)
    position = st.integers(0, len(text) - 1)
    replacement = st.sampled_from("0189Xx -/.年a\u3000０")
    return st.one_of(
        st.just(text), st.just(text.translate(fullwidth)), st.just(f" {text}"), st.just(f"{text}\u3000"),
        st.just(text.lower()), st.just(text.upper()),
        st.tuples(position, replacement).map(lambda p: text[:p[0]] + p[1] + text[p[0] + 1:]),
        position.map(lambda i: text[:i] + text[i + 1:]),
        position.map(lambda i: text[:i] + text[i] + text[i:]),
    )


@st.composite
def id_numbers(draw) -> str:
    county = draw(st.sampled_from(VILLAGES))[:6]
    born = draw(st.dates(date(1880, 1, 1), date(2120, 12, 31)))
    first17 = f"{county}{born:%Y%m%d}{draw(st.integers(0, 999)):03d}"
    last = draw(st.sampled_from([check_char(first17), "0", "X", "x", "5"]))
    legacy = f"{county}{born:%y%m%d}{draw(st.integers(0, 999)):03d}"
    excel = f"{first17[:15]}000"
    return draw(st.sampled_from([first17 + last, legacy, excel, f"{first17[:6]}.{first17[6:11]}E+17",
                                 f"{first17}{last}.0", "'" + first17 + last]))


@st.composite
def iso_like_dates(draw) -> str:
    """YYYY-MM-DD shapes: real dates in and out of 1900-2099, and impossible ones (month 13, day 31 of June)."""
    if draw(st.booleans()):
        return draw(st.dates(date(1800, 1, 1), date(2200, 12, 31))).isoformat()
    return f"{draw(st.integers(0, 9999)):04d}-{draw(st.integers(0, 19)):02d}-{draw(st.integers(0, 39)):02d}"


dates_written = st.dates(date(1890, 1, 1), date(2110, 12, 31)).flatmap(lambda d: st.sampled_from([
    d.isoformat(), f"{d.year}/{d.month}/{d.day}", f"{d:%Y%m%d}", f"{d.year}年{d.month}月{d.day}日",
    f"{d.isoformat()} 00:00:00", str((d - date(1899, 12, 30)).days), f"{d.year}.{d.month}.{d.day}"]))
phones = st.from_regex(r"[0-9]{11}", fullmatch=True).flatmap(lambda p: st.sampled_from([
    p, "1" + p[1:], "13" + p[2:], f"+86{p}", f"{p[:3]} {p[3:7]} {p[7:]}", f"{p[:3]}-{p[3:7]}-{p[7:]}", f"{p}.0"]))

SURNAMES = sorted(surname_readings())
chinese = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=4)
traditional = st.text(st.sampled_from("張偉劉國強東麗華陳曉鄭單曾歐陽峰吳孫學"), min_size=1, max_size=3)
other_scripts = st.text(st.sampled_from("㐀䶵\uF900\uFA30𠀀ＡａA1 ·.•・\u3000ﾟ´"), min_size=1, max_size=3)
names_written = st.one_of(
    chinese, traditional, st.tuples(st.sampled_from(SURNAMES), chinese).map("".join),
    st.tuples(chinese, st.sampled_from(["", " ", "·", ".", "•", "\u3000", "  "]), chinese).map("".join),
    st.tuples(chinese, other_scripts, chinese).map("".join), st.sampled_from(["Wang Fang", "王Fang", "李2"]))
numbers_written = st.one_of(
    st.integers(-10**6, 10**12).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(0, 10**7, places=2).map(str), st.sampled_from(["1e400", "inf", "-inf", "NaN", "+5", ".5", "5.",
                                                                "1,000", "12元", "¥3", "3 户", "２０２０", "2020年"]))


def values(*shaped: st.SearchStrategy[str]) -> st.SearchStrategy[list]:
    return st.lists(st.one_of(anything, *(s.flatmap(mutations) for s in shaped), *shaped), max_size=30)


# -- one kind at a time ---------------------------------------------------------------------------------


@SETTINGS
@given(values=values(id_numbers(), digit_text))
def test_id_numbers(values):
    assert_frame_equal(*reference(spec_of(Kind.ID_NUMBER), values))


@SETTINGS
@given(values=values(iso_like_dates(), dates_written))
def test_dates(values):
    assert_frame_equal(*reference(spec_of(Kind.DATE), values))


@SETTINGS
@given(values=values(phones))
def test_phones(values):
    assert_frame_equal(*reference(spec_of(Kind.PHONE), values))


@SETTINGS
@given(values=values(names_written))
def test_names(values):
    assert_frame_equal(*reference(spec_of(Kind.NAME), values))


@pytest.mark.parametrize("kind", [Kind.MONEY, Kind.INT, Kind.YEAR])
@SETTINGS
@given(values=values(numbers_written, digit_text))
def test_numbers(kind, values):
    department = next(d for d in DEPARTMENTS if any(s.kind == kind for s in columns(d)))
    assert_frame_equal(*reference(spec_of(kind, department), values))


ENUM_SPECS = {f"{d}.{s.name}": s for d in DEPARTMENTS for s in columns(d)
              if s.kind in (Kind.GENDER, Kind.ENUM, Kind.BOOL, Kind.HOUSE_GRADE, Kind.SCHOOL_GRADE)}


@pytest.mark.parametrize("name", sorted(ENUM_SPECS))
@settings(SETTINGS, max_examples=15)
@given(data=st.data())
def test_enumerations(name, data):
    spec = ENUM_SPECS[name]
    spellings = [s for canonical, written in spec.column.values.items() for s in (canonical, *written)]
    shaped = st.sampled_from(spellings or ["一年级", "高三", "初2", "7", "12"])
    assert_frame_equal(*reference(spec, data.draw(values(shaped, st.sampled_from(["1.0", "2.00", "C级", "Ｃ"])))))


@SETTINGS
@given(data=st.data())
def test_village_codes(data):
    codes = data.draw(values(st.sampled_from(VILLAGES), st.sampled_from([c + ".0" for c in VILLAGES[:5]]),
                             st.from_regex(r"5299[0-9]{8}", fullmatch=True)))
    villages = [v.village for v in load_gazetteer().villages[:40]]
    addresses = data.draw(st.lists(st.one_of(anything, st.sampled_from(villages),
                                             st.tuples(st.sampled_from(villages), st.text(max_size=3)).map("".join)),
                                   min_size=len(codes), max_size=len(codes)))
    assert_frame_equal(*reference(spec_of(Kind.VILLAGE_CODE), codes, addresses))


@pytest.mark.parametrize("kind", [Kind.TEXT, Kind.ADDRESS])
@SETTINGS
@given(values=values(st.text(st.sampled_from("ab １２\u3000 \t学校村组号"), max_size=8)))
def test_text(kind, values):
    assert_frame_equal(*reference(spec_of(kind), values))


def test_a_whole_column_of_usual_values_and_one_odd_one():
    """Large enough for every fast path to take its vectorised route, with the odd values spread out."""
    valid = [f"529901{date(1950, 1, 1) + timedelta(days=i):%Y%m%d}{i % 1000:03d}" for i in range(3000)]
    ids = [v + check_char(v) for v in valid]
    odd = {7: "52990119500101001x", 100: "529901500101001", 2000: None, 2999: "5.29901E+17"}
    assert_frame_equal(*reference(spec_of(Kind.ID_NUMBER), [odd.get(i, v) for i, v in enumerate(ids)]))
    names = ["王芳", "張偉", "欧阳峰", "曾国藩", "王 芳", "米热·托合提", "Wang"] * 400
    assert_frame_equal(*reference(spec_of(Kind.NAME), names))
    days = [(date(1990, 1, 1) + timedelta(days=i)).isoformat() for i in range(2000)] + ["2023-02-30", "2023/1/5"]
    assert_frame_equal(*reference(spec_of(Kind.DATE), days))


# -- every shape next to the usual one, enumerated -----------------------------------------------------


def test_id_numbers_every_last_character_birth_date_and_excel_ending():
    rng = random.Random(5)
    written = []
    for born in ["19000101", "18991231", "20991231", "21000101", "20000229", "19000229", "20230230", "20231301",
                 "00000000", "19700100", *(f"{rng.randint(1900, 2099)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                                           for _ in range(40))]:
        for sequence in ("000", "100", "010", "001", f"{rng.randint(0, 999):03d}"):
            first17 = f"{rng.choice(VILLAGES)[:6]}{born}{sequence}"
            written += [first17 + last for last in "0123456789Xx"]
            written += [first17[:6] + first17[8:], first17[:15] + "000"]  # legacy 15 digits; Excel's zeros
    assert_frame_equal(*reference(spec_of(Kind.ID_NUMBER), written))


def test_dates_every_iso_shape_around_the_edges():
    written = [f"{year}-{month:02d}-{day:02d}" for year in ("0000", "1899", "1900", "2000", "2023", "2024", "2099",
                                                              "2100", "9999")
               for month in range(0, 14) for day in range(0, 33)]
    assert_frame_equal(*reference(spec_of(Kind.DATE), written))


def test_phones_every_first_two_digits():
    written = [f"{first}{second}012345678" for first in range(10) for second in range(10)]
    assert_frame_equal(*reference(spec_of(Kind.PHONE), written + [p + "9" for p in written] + [p[:-1] for p in written]))


def test_names_every_surname_reading_alone_and_before_its_neighbours():
    surnames = sorted(surname_readings())
    firsts = sorted({s[0] for s in surnames if len(s) == 2})
    written = [*surnames, *(s + "国藩" for s in surnames), *(f + "国" for f in firsts), *(s[1:] + "国" for s in surnames),
               *(s + " 国" for s in surnames), *(s + "·国" for s in surnames), "單于國", "尉遲恭", "曾曾"]
    assert_frame_equal(*reference(spec_of(Kind.NAME), written))


# -- a whole department: the assembled accepted frame against the reference stages -----------------------


def reference_accepted(rows: pl.DataFrame, department: str, meta: FileMeta) -> pl.DataFrame:
    """The accepted frame built from ``field_stages`` alone (the normalisation before the fast paths)."""
    specs = columns(department)
    by_kind = {s.name: s.kind for s in specs}
    address = next((s.name for s in specs if s.kind == Kind.ADDRESS), None)
    village = next((s.name for s in specs if s.kind == Kind.VILLAGE_CODE), None)
    stages = [{f"{s.name}_raw": pl.col(s.name) for s in specs},
              *merge(*(field_stages(s, address, meta.county_from_name) for s in specs))]
    out = run(rows, stages, keep_temporaries=True)
    flags = [pl.col(temp(s.name, "flag")) for s in specs if temp(s.name, "flag") in out.columns]
    flags += [flags_text(pl.col(temp(s.name, "flags"))) for s in specs if temp(s.name, "flags") in out.columns]
    if by_kind.get("id_number") == Kind.ID_NUMBER:
        for field in ("birth_date", "gender"):
            if field in by_kind:
                from_id = pl.col(f"id_number_{field}")
                disagrees = pl.col(field).is_not_null() & from_id.is_not_null() & (pl.col(field) != from_id)
                flags.append(pl.when(disagrees).then(pl.lit(f"{field}:disagrees_with_id")))
    county = pl.col(village).str.slice(0, 6) if village else pl.lit(None, dtype=pl.String)
    return out.with_columns(
        department=pl.lit(department), file_id=pl.lit(meta.file_id), file_name=pl.lit(meta.file_name),
        snapshot_date=pl.lit(meta.snapshot_date, dtype=pl.Date),
        county=pl.coalesce(county, pl.lit(meta.county_from_name, dtype=pl.String)), flags=flag_list(flags),
    ).select([pl.col(name).cast(dtype) for name, dtype in accepted_schema(department).items()])


SHAPES_BY_KIND = {Kind.ID_NUMBER: id_numbers(), Kind.DATE: dates_written, Kind.PHONE: phones, Kind.NAME: names_written,
                  Kind.MONEY: numbers_written, Kind.INT: numbers_written, Kind.YEAR: numbers_written,
                  Kind.VILLAGE_CODE: st.sampled_from(VILLAGES), Kind.GENDER: st.sampled_from(["男", "女", "1", "F"])}


@pytest.mark.parametrize("department", DEPARTMENTS)
@settings(SETTINGS, max_examples=25)
@given(data=st.data())
def test_accepted_rows_equal_the_reference_stages(department, data):
    specs = columns(department)
    height = data.draw(st.integers(1, 12))
    rows = {s.name: data.draw(st.lists(st.one_of(anything, SHAPES_BY_KIND.get(s.kind, anything)),
                                       min_size=height, max_size=height)) for s in specs}
    required = [s.name for s in specs if s.required]
    for name in required:  # rows that reach normalisation have their required values
        rows[name] = [v if v and v.strip() else "x" for v in rows[name]]
    rows = {**{n: [f"R{i}" for i in range(height)] if n == "record_id" else v for n, v in rows.items()},
            "row_number": list(range(2, height + 2))}
    frame = pl.DataFrame(rows, schema={**{s.name: pl.String for s in specs}, "row_number": pl.Int32})
    meta = FileMeta(file_id="0123456789abcdef", file_name="529901_20260105.csv", snapshot_date=date(2026, 1, 5),
                    county_from_name=HINT)
    accepted = validate(frame, department, meta).accepted
    expected = reference_accepted(frame.filter(pl.col("row_number").is_in(accepted["row_number"].implode())),
                                  department, meta)
    assert_frame_equal(accepted, expected)
