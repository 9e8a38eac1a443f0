from datetime import date, timedelta

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.normalise import id_number, run
from schemas.normalise.id_number import check_char


def normalise(values: list[str | None]) -> pl.DataFrame:
    return run(pl.DataFrame({"id": values}, schema={"id": pl.String}), id_number.normalise("id"))


births = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))
counties = st.from_regex(r"\A[1-9][0-9]{5}\Z")
sequences = st.integers(0, 999)


@st.composite
def valid_ids(draw, births=births) -> str:
    first17 = f"{draw(counties)}{draw(births):%Y%m%d}{draw(sequences):03d}"
    return first17 + check_char(first17)


def test_check_char_known_example():
    assert check_char("11010519491231002") == "X"
    assert check_char("44052418800101001") == "4"


@settings(deadline=None)
@given(st.lists(valid_ids(), min_size=1, max_size=40))
def test_generated_valid_ids_validate(ids):
    out = normalise(ids)
    assert out["id_status"].to_list() == ["valid"] * len(ids)
    assert out["id"].to_list() == ids


@settings(deadline=None)
@given(valid_ids(), st.integers(0, 17), st.integers(1, 9))
def test_any_single_digit_change_fails(valid, position, shift):
    digit = valid[position]
    if digit == "X":
        changed = valid[:position] + str(shift)
    else:
        changed = valid[:position] + str((int(digit) + shift) % 10) + valid[position + 1:]
    assert normalise([changed])["id_status"].item() != "valid"


@settings(deadline=None)
@given(st.lists(valid_ids(births=st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31))),
                min_size=1, max_size=40))
def test_legacy_15_digit_ids_convert_back_to_the_18_digit_id(ids):
    legacy = [i[:6] + i[8:17] for i in ids]  # drop the century and the check character
    out = normalise(legacy)
    assert out["id"].to_list() == ids
    assert out["id_status"].to_list() == ["legacy_converted"] * len(ids)


@settings(deadline=None)
@given(valid_ids())
def test_derived_fields(valid):
    out = normalise([valid]).row(0, named=True)
    assert out["id_birth_date"] == date(int(valid[6:10]), int(valid[10:12]), int(valid[12:14]))
    assert out["id_gender"] == ("男" if int(valid[16]) % 2 else "女")
    assert out["id_county"] == valid[:6]


def test_statuses_of_messy_values():
    values = ["１１０１０５１９４９１２３１００２ｘ", " 11010519491231002x ", "'11010519491231002X",
              "110105194912310021", "5.29901E+17", "529901199001011234.0", "529901199001011000",
              "110105194902300021", "12345", "", "  ", None]
    out = normalise(values)
    assert out["id_status"].to_list() == [
        "valid", "valid", "valid", "bad_check_digit", "excel_damaged", "excel_damaged", "excel_damaged",
        "malformed", "malformed", "blank", "blank", "blank"]
    assert out["id"].to_list()[:4] == ["11010519491231002X"] * 3 + ["110105194912310021"]
    assert out["id"].to_list()[4:] == [None] * 8
    # bad check digit keeps its shape-derived fields; a malformed ID derives nothing
    assert out["id_birth_date"][3] == date(1949, 12, 31)
    assert out["id_birth_date"][7] is None


def test_flag_only_for_problems():
    out = run(pl.DataFrame({"id": ["110105194912310021", "11010519491231002X", None]}),
              id_number.normalise("id"), keep_temporaries=True)
    assert out["id__flag"].to_list() == ["id:bad_check_digit", None, None]


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000))
def test_impossible_birth_dates_are_malformed(offset):
    day = date(2001, 1, 1) + timedelta(days=offset)
    first17 = f"529901{day.year}{day.month:02d}32001"  # day 32 never exists
    assert normalise([first17 + check_char(first17)])["id_status"].item() == "malformed"
