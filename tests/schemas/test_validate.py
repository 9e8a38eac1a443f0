"""validate() on a hand-made civil-affairs file that breaks every rule once."""

import json
from datetime import date

import polars as pl
import pytest

from schemas.departments import DEPARTMENTS, columns
from schemas.normalise.id_number import check_char
from schemas.validate import QUARANTINE_SCHEMA, FileMeta, accepted_schema, validate

META = FileMeta(file_id="0123456789abcdef", file_name="529901_20260105.xlsx",
                snapshot_date=date(2026, 1, 5), county_from_name="529901")
GOOD_ID = "52990119800101001" + check_char("52990119800101001")  # born 1980-01-01, odd sequence: 男
COLUMNS = ["record_id", "case_no", "name", "id_number", "gender", "birth_date", "phone", "address",
           "village_code", "relation", "assistance_type", "monthly_benefit", "per_capita_income", "status",
           "start_date"]


def row(**values):
    base = dict(record_id=None, case_no="C1", name="王芳", id_number=GOOD_ID, gender="男", birth_date="1980-01-01",
                phone="13812345678", address="湾湾镇营坝村三组", village_code="529901100200", relation="户主",
                assistance_type="低保", monthly_benefit="450", per_capita_income="6,000元", status="在保",
                start_date="2024/3/1")
    return base | values


ROWS = [
    row(record_id="R1"),                                                        # 2 clean
    row(record_id="R2", id_number=GOOD_ID[:17] + str((int(check_char(GOOD_ID[:17]).replace("X", "9")) + 1) % 10)),  # 3 bad check digit
    row(record_id="R3", birth_date="1981-01-01"),                                # 4 birth date disagrees with ID
    row(record_id="R4", gender="女"),                                            # 5 gender disagrees with ID
    row(record_id="R5", village_code="529901999999", address="火星村"),           # 6 unknown village
    row(record_id="R6", village_code=None, address="营坝村三组"),                  # 7 village from address
    row(record_id=None),                                                        # 8 missing record_id -> quarantine
    row(record_id="R8", name=" \u3000"),                                        # 9 missing name -> quarantine
    {c: None for c in COLUMNS},                                                 # 10 blank row
    {c: "  " for c in COLUMNS},                                                 # 11 blank row (spaces only)
    row(record_id="R1"),                                                        # 12 exact duplicate of row 2
    row(record_id="R1", phone="13900000000"),                                   # 13 record_id repeated, different
    row(record_id="R9", start_date="2023-02-30", phone="12345", status="不知道", monthly_benefit="abc",
        id_number="5.29901E+17"),                                               # 14 several soft problems
]


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return pl.DataFrame(ROWS, schema={c: pl.String for c in COLUMNS}).with_columns(
        row_number=pl.int_range(2, len(ROWS) + 2, dtype=pl.Int32))


@pytest.fixture(scope="module")
def result(frame):
    return validate(frame, "civil_affairs", META)


def flags_by_row(result) -> dict[int, list[str]]:
    return dict(result.accepted.select("row_number", "flags").iter_rows())


def test_accounting_invariant(frame, result):
    assert frame.height == result.accepted.height + result.quarantine.height + result.blank_rows
    assert result.blank_rows == 2
    assert result.accepted["row_number"].to_list() == [2, 3, 4, 5, 6, 7, 14]


def test_hard_rules(result):
    quarantine = {r["row_number"]: r for r in result.quarantine.iter_rows(named=True)}
    assert set(quarantine) == {8, 9, 12, 13}
    assert (quarantine[8]["field"], quarantine[8]["reason"]) == ("record_id", "missing required value")
    assert (quarantine[9]["field"], quarantine[9]["reason"]) == ("name", "missing required value")
    assert quarantine[12]["field"] is None and quarantine[12]["reason"] == "exact duplicate of row 2"
    assert quarantine[13]["field"] == "record_id" and "row 2" in quarantine[13]["reason"]
    assert json.loads(quarantine[13]["raw_row"])["phone"] == "13900000000"
    assert result.reject_reasons == {"missing required value": 2, "exact duplicate row": 1,
                                     "record_id repeated with different content": 1}
    assert set(result.quarantine["file_id"]) == {META.file_id}


def test_soft_flags(result):
    flags = flags_by_row(result)
    assert flags[2] == []
    assert flags[3] == ["id_number:bad_check_digit"]
    assert flags[4] == ["birth_date:disagrees_with_id"]
    assert flags[5] == ["gender:disagrees_with_id"]
    assert flags[6] == ["village_code:unknown", "village_code:village_not_found"]
    assert flags[7] == []
    assert sorted(flags[14]) == sorted(["id_number:excel_damaged", "phone:invalid_phone", "status:unknown_value",
                                        "monthly_benefit:not_a_number", "start_date:impossible_date"])


def test_normalised_values(result):
    rows = {r["row_number"]: r for r in result.accepted.iter_rows(named=True)}
    clean = rows[2]
    assert clean["id_number"] == GOOD_ID and clean["id_number_status"] == "valid"
    assert clean["id_number_birth_date"] == date(1980, 1, 1) and clean["id_number_gender"] == "男"
    assert clean["per_capita_income"] == 6000.0 and clean["per_capita_income_raw"] == "6,000元"
    assert clean["start_date"] == date(2024, 3, 1) and clean["name_pinyin"] == "wang fang"
    assert clean["county"] == "529901" and clean["village_code_source"] == "given"
    assert rows[7]["village_code"] == "529901100200" and rows[7]["village_code_source"] == "address"
    assert rows[6]["village_code"] is None and rows[6]["county"] == "529901"  # falls back to the file name
    assert rows[14]["id_number"] is None and rows[14]["id_number_status"] == "excel_damaged"
    meta = result.accepted.select("department", "file_id", "file_name", "snapshot_date").unique().row(0)
    assert meta == ("civil_affairs", META.file_id, META.file_name, META.snapshot_date)


def test_accepted_frame_has_the_schema_shape(result):
    assert result.accepted.schema == pl.Schema(accepted_schema("civil_affairs"))
    assert result.quarantine.schema == pl.Schema(QUARANTINE_SCHEMA)


@pytest.mark.parametrize("department", list(DEPARTMENTS))
def test_zero_rows_still_typed(department):
    empty = pl.DataFrame({s.name: pl.Series([], dtype=pl.String) for s in columns(department)}).with_columns(
        row_number=pl.Series([], dtype=pl.Int32))
    result = validate(empty, department, META)
    assert result.accepted.height == 0 and result.quarantine.height == 0 and result.blank_rows == 0
    assert result.accepted.schema == pl.Schema(accepted_schema(department))
    assert result.quarantine.schema == pl.Schema(QUARANTINE_SCHEMA)


def test_all_rows_rejected_still_typed():
    frame = pl.DataFrame({"record_id": [None, " "], "head_name": ["王芳", "李四"], "row_number": [2, 3]},
                         schema_overrides={"record_id": pl.String, "row_number": pl.Int32})
    result = validate(frame, "water", META)
    assert (result.accepted.height, result.quarantine.height, result.blank_rows) == (0, 2, 0)
    assert result.accepted.schema == pl.Schema(accepted_schema("water"))
    # raw_row holds only the columns the frame had, values exactly as read
    assert json.loads(result.quarantine["raw_row"][1]) == {"record_id": " ", "head_name": "李四"}


def test_given_raw_row_is_kept(frame):
    with_raw = frame.with_columns(raw_row=pl.concat_str(pl.lit('{"原始行":'), pl.col("row_number"), pl.lit("}")))
    result = validate(with_raw, "civil_affairs", META)
    assert result.quarantine.filter(pl.col("row_number") == 8)["raw_row"].item() == '{"原始行":8}'
