"""Enums, booleans, grades, phones and numbers."""

import polars as pl
import pytest

from schemas.columns import Kind
from schemas.departments import columns
from schemas.normalise import enums, numbers, phones, run


def column(department: str, name: str):
    return next(s.column for s in columns(department) if s.name == name)


def normalise(values, stages):
    return run(pl.DataFrame({"v": values}, schema={"v": pl.String}), stages, keep_temporaries=True)


def test_house_grades():
    out = normalise(["Ｃ", "c", "C级", "c 级", " D ", "E", None], enums.normalise("v", column("housing", "grade")))
    assert out["v"].to_list() == ["C", "C", "C", "C", "D", None, None]
    assert out["v__flag"].to_list() == [None] * 5 + ["v:unknown_value", None]


def test_school_grades():
    out = normalise(["一年级", "九年级", "初一", "初三", "高一", "高三", "1", "12", "7.0", "13", "十年级"],
                    enums.normalise("v", column("education", "grade")))
    assert out["v"].to_list() == [1, 9, 7, 9, 10, 12, 1, 12, 7, None, None]
    assert out["v"].dtype == pl.Int32


def test_bool_gender_enum():
    out = normalise(["是", "否", "Y", "no", "？"], enums.normalise("v", column("water", "quality_ok")))
    assert out["v"].to_list() == [True, False, True, False, None]
    out = normalise(["男", "2", "F", "男性", "x"], enums.normalise("v", column("health", "gender")))
    assert out["v"].to_list() == ["男", "女", "女", "男", None]
    out = normalise(["最低生活保障", "特困", "临时救助 "], enums.normalise("v", column("civil_affairs", "assistance_type")))
    assert out["v"].to_list() == ["低保", "特困", "临时救助"]


def test_phones():
    out = normalise(["+86 138-1234-5678", "008613812345678", "(138)1234 5678", "13812345678.0", "１３８１２３４５６７８",
                     "12345678901", "1381234567", "", None], phones.normalise("v"))
    assert out["v"].to_list() == ["13812345678"] * 5 + [None] * 4
    assert out["v__flag"].to_list() == [None] * 5 + ["v:invalid_phone"] * 2 + [None] * 2


@pytest.mark.parametrize("kind, values, expected, flags", [
    (Kind.MONEY, ["1,234.5元", "¥20,000", "１２３", "abc", None], [1234.5, 20000.0, 123.0, None, None],
     [None, None, None, "v:not_a_number", None]),
    (Kind.INT, ["5人", "5.0", "5.5", "x"], [5, 5, None, None], [None, None, "v:not_an_integer", "v:not_a_number"]),
    (Kind.YEAR, ["2026", "2026年", "1800"], [2026, 2026, None], [None, None, "v:out_of_range"]),
])
def test_numbers(kind, values, expected, flags):
    out = normalise(values, numbers.normalise("v", kind))
    assert out["v"].to_list() == expected
    assert out["v__flag"].to_list() == flags
