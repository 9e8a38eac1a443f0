import pytest

from schemas.departments import DEPARTMENTS, columns
from schemas.headers import guess_department, header_key, match_headers


@pytest.mark.parametrize("found, canonical", [
    (" 姓 名 ", "name"),
    ("身份证号\u3000", "id_number"),
    ("年度医疗总费用（元）", "total_cost"),
    ("年度医疗总费用(元)", "total_cost"),
    ("个人自付费用 【元】", "out_of_pocket"),
    ("ＩＤ＿ＮＵＭＢＥＲ", "id_number"),
    ("Record_ID", "record_id"),
    ("RECORD ID", "record_id"),
    ("*人员编号", "record_id"),
    ("身份证号码", "id_number"),
])
def test_header_variants(found, canonical):
    match = match_headers([found], "health")
    assert match.mapping == {found: canonical}
    assert match.unknown == []


def test_unit_suffix_people():
    assert header_key("家庭人口（人）") == header_key("家庭人口")


def test_full_file_scores_and_unknowns():
    headers = [s.column.zh for s in columns("water")] + ["备注"]
    match = match_headers(headers, "water")
    assert match.score == 1.0
    assert match.missing_required == []
    assert match.unknown == ["备注"]
    assert set(match.mapping.values()) == {s.name for s in columns("water")}


def test_missing_required_and_canonical_beats_alias():
    match = match_headers(["姓名", "学生姓名", "身份证号"], "education")
    assert match.mapping == {"学生姓名": "name", "身份证号": "id_number"}
    assert match.unknown == ["姓名"]
    assert match.missing_required == ["record_id"]


@pytest.mark.parametrize("department", list(DEPARTMENTS))
def test_guess_department_from_chinese_and_english_headers(department):
    assert guess_department([s.column.zh for s in columns(department)]) == department
    assert guess_department([s.name.upper() for s in columns(department)]) == department


def test_guess_department_none_for_unrelated_headers():
    assert guess_department(["foo", "bar", "姓名"]) is None
