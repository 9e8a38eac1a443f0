import calendar
from datetime import date

import polars as pl
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas.normalise import dates, run

FORMATS = {
    "iso": lambda d: d.isoformat(),
    "slashes": lambda d: f"{d.year}/{d.month}/{d.day}",
    "compact": lambda d: f"{d:%Y%m%d}",
    "chinese": lambda d: f"{d.year}年{d.month}月{d.day}日",
    "dots": lambda d: f"{d.year}.{d.month}.{d.day}",
    "with_time": lambda d: f"{d.isoformat()} 00:00:00",
    "slashes_with_time": lambda d: f"{d.year}/{d.month}/{d.day} 8:30",
    "excel_serial": lambda d: str((d - date(1899, 12, 30)).days),
    "excel_serial_float": lambda d: f"{(d - date(1899, 12, 30)).days}.0",
    "full_width": lambda d: d.isoformat().translate(str.maketrans("0123456789-", "０１２３４５６７８９－")),
}


def parse(values: list[str | None]) -> pl.DataFrame:
    return run(pl.DataFrame({"d": values}, schema={"d": pl.String}), dates.normalise("d"), keep_temporaries=True)


@settings(deadline=None)
@given(st.lists(st.dates(min_value=date(1928, 1, 1), max_value=date(2099, 12, 31)), min_size=1, max_size=30),
       st.sampled_from(sorted(FORMATS)))
def test_valid_dates_parse_back_in_every_format(days, fmt):
    out = parse([FORMATS[fmt](d) for d in days])
    assert out["d"].to_list() == days
    assert out["d__flag"].to_list() == [None] * len(days)


def is_real(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _impossible_dates():
    """A 13th month, or a day past the end of a month shorter than 31 days (generated, not filtered:
    filtering three in four draws away trips Hypothesis's health check now and then)."""
    years = st.integers(1900, 2099)
    thirteenth = st.tuples(years, st.just(13), st.integers(1, 31))
    past_month_end = st.tuples(years, st.sampled_from([2, 4, 6, 9, 11])).flatmap(
        lambda ym: st.integers(calendar.monthrange(*ym)[1] + 1, 31).map(lambda d: (*ym, d)))
    return st.one_of(thirteenth, past_month_end)


@settings(deadline=None)
@given(_impossible_dates())
def test_impossible_dates_are_rejected(ymd):
    year, month, day = ymd
    assert not is_real(year, month, day)
    text = {"iso": f"{year}-{month:02d}-{day:02d}", "slashes": f"{year}/{month}/{day}",
            "compact": f"{year}{month:02d}{day:02d}", "chinese": f"{year}年{month}月{day}日"}
    out = parse(list(text.values()))
    assert out["d"].to_list() == [None] * 4
    assert out["d__flag"].to_list() == ["d:impossible_date"] * 4


def test_impossible_and_unparseable():
    out = parse(["2023-02-30", "2023-13-01", "20231301", "abc", "2023", "1/5/2023", "", None])
    assert out["d"].to_list() == [None] * 8
    assert out["d__flag"].to_list() == ["d:impossible_date"] * 3 + ["d:unparseable_date"] * 3 + [None, None]


def test_excel_epoch():
    assert parse(["44927", "44927.0", "1899-12-30"])["d"].to_list() == [date(2023, 1, 1), date(2023, 1, 1), None]
