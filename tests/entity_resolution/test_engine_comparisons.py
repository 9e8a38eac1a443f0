"""Each comparison level on hand-made value pairs."""

from datetime import date

import polars as pl
import pytest

from entity_resolution.comparisons import compare, evaluate_levels
from entity_resolution.records import prepare_records
from entity_resolution.settings import Comparison, LinkageSettings

NAME = Comparison.model_validate(
    {
        "name": "name",
        "column": "name",
        "levels": [
            {"type": "null"},
            {"type": "exact"},
            {"type": "exact_on_other_columns", "columns": ["name_pinyin"], "label": "homophone"},
            {"type": "jaro_winkler", "columns": ["name_pinyin"], "threshold": 0.88},
            {"type": "else"},
        ],
    }
)
ID_NUMBER = Comparison.model_validate(
    {
        "name": "id",
        "column": "id_number",
        "levels": [
            {"type": "null"},
            {"type": "exact"},
            {"type": "id_one_digit_diff"},
            {"type": "id_transposition"},
            {"type": "else"},
        ],
    }
)
BIRTH_DATE = Comparison.model_validate(
    {
        "name": "dob",
        "column": "birth_date",
        "levels": [
            {"type": "null"},
            {"type": "exact"},
            {"type": "date_swap_day_month"},
            {"type": "date_within_days", "days": 1},
            {"type": "same_year"},
            {"type": "else"},
        ],
    }
)


def levels(comparison: Comparison, rows: list[dict]) -> list[int]:
    return evaluate_levels(pl.DataFrame(rows), comparison).to_list()


def test_chinese_name_levels():
    rows = [
        {"name_l": "王伟", "name_r": "王伟", "name_pinyin_l": "wang wei", "name_pinyin_r": "wang wei"},
        # 伟/玮: a homophone typo, same toneless pinyin
        {"name_l": "王伟", "name_r": "王玮", "name_pinyin_l": "wang wei", "name_pinyin_r": "wang wei"},
        {"name_l": "李秀英", "name_r": "李秀莹", "name_pinyin_l": "li xiu ying", "name_pinyin_r": "li xiu yin"},
        {"name_l": "王伟", "name_r": "赵敏", "name_pinyin_l": "wang wei", "name_pinyin_r": "zhao min"},
        {"name_l": None, "name_r": "赵敏", "name_pinyin_l": None, "name_pinyin_r": "zhao min"},
        {"name_l": "  ", "name_r": "赵敏", "name_pinyin_l": "", "name_pinyin_r": "zhao min"},
    ]
    assert levels(NAME, rows) == [1, 2, 3, 4, 0, 0]


def test_id_number_levels():
    base = "52990119800312001X"
    one_digit = "52990119800312002X"
    transposed = "52990119800321001X"  # 12 -> 21
    two_digits = "52990119800312112X"
    rows = [
        {"id_number_l": base, "id_number_r": base},
        {"id_number_l": base, "id_number_r": one_digit},
        {"id_number_l": base, "id_number_r": transposed},
        {"id_number_l": base, "id_number_r": two_digits},
        {"id_number_l": base, "id_number_r": base[:-1]},  # a shorter string is not one digit off
        {"id_number_l": base, "id_number_r": None},
    ]
    assert levels(ID_NUMBER, rows) == [1, 2, 3, 4, 4, 0]


@pytest.mark.parametrize("as_text", [False, True])
def test_date_levels(as_text):
    pairs = [
        (date(1980, 3, 12), date(1980, 3, 12), 1),
        (date(1980, 3, 12), date(1980, 12, 3), 2),  # day and month swapped
        (date(1980, 3, 12), date(1980, 3, 13), 3),
        (date(1980, 12, 31), date(1981, 1, 1), 3),  # within a day across a year boundary
        (date(1980, 3, 12), date(1980, 7, 1), 4),
        (date(1980, 3, 12), date(1981, 3, 12), 5),
        (date(1980, 3, 12), None, 0),
    ]
    frame = pl.DataFrame(
        {"birth_date_l": [p[0] for p in pairs], "birth_date_r": [p[1] for p in pairs]},
        schema={"birth_date_l": pl.Date, "birth_date_r": pl.Date},
    )
    if as_text:
        frame = frame.with_columns(pl.all().dt.to_string("%Y-%m-%d"))
    assert evaluate_levels(frame, BIRTH_DATE).to_list() == [p[2] for p in pairs]


def test_edit_distance_levels():
    comparison = Comparison.model_validate(
        {
            "name": "v",
            "column": "v",
            "levels": [
                {"type": "exact"},
                {"type": "damerau", "distance": 1},
                {"type": "levenshtein", "distance": 2},
                {"type": "else"},
            ],
        }
    )
    rows = [
        {"v_l": "营坝村", "v_r": "营坝村"},
        {"v_l": "abcd", "v_r": "abdc"},  # one transposition: damerau 1, levenshtein 2
        {"v_l": "abcd", "v_r": "axcy"},
        {"v_l": "abcd", "v_r": "wxyz"},
    ]
    assert levels(comparison, rows) == [0, 1, 2, 3]


def test_bulk_compare_joins_distinct_results_back_to_every_pair():
    settings = LinkageSettings.model_validate(
        {
            "unique_id_column": "id",
            "blocking_rules": [{"name": "all", "keys": ["k"]}],
            "comparisons": [NAME.model_dump(exclude_none=True)],
        }
    )
    records = prepare_records(
        pl.DataFrame(
            {
                "id": [3, 1, 2, 4],
                "k": ["a"] * 4,
                "name": ["王伟", "王伟", "王玮", None],
                "name_pinyin": ["wang wei", "wang wei", "wang wei", None],
            }
        ),
        settings,
    )
    pairs = pl.DataFrame(
        {"id_l": [0, 0, 1, 0, 2], "id_r": [1, 2, 2, 3, 3]}, schema={"id_l": pl.UInt32, "id_r": pl.UInt32}
    )
    out = compare(records, pairs, settings.comparisons)
    # ids sorted: 0->id1 王伟, 1->id2 王玮, 2->id3 王伟, 3->id4 null
    assert out["gamma_name"].to_list() == [2, 1, 2, 0, 0]
