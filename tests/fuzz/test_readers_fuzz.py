"""Readers on hostile bytes: every input is a RawTable of text columns or an UnreadableFile, nothing else."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest
import xlsxwriter
from hypothesis import assume, given, strategies as st

from fuzz_support import fuzz_settings
from sources.readers import RawTable, UnreadableFile, read_table_bytes

HEADERS = ["记录编号", "姓名", "身份证号", "性别", "村代码", "月救助金额（元）"]
ROWS = [
    ["0001", "王芳", "52990119800101002X", "女", "529901100001", "450"],
    ["0002", "阿依古丽·买买提", "5.29901E+17", "2", "", "450.5"],
    ["0003", "李 四", "529901200501011234", "男", "529901100002", ""],
]
SUFFIXES = (".csv", ".xlsx", ".xls", ".parquet", ".txt", "")
MAGIC = (b"", b"PK\x03\x04", b"PAR1", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\xef\xbb\xbf", b"\xff\xfe")


def xlsx_bytes(headers=HEADERS, rows=ROWS, title=True) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    start = 0
    if title:
        sheet.write(0, 0, "青石县2026年低保对象花名册")
        start = 1
    # write_string: write_row would turn "=..." into a formula
    for offset, row in enumerate([headers, *rows], start=start):
        for column, value in enumerate(row):
            sheet.write_string(offset, column, value)
    workbook.close()
    return buffer.getvalue()


def parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame([list(c) for c in zip(*ROWS)], schema=HEADERS, orient="col").write_parquet(buffer)
    return buffer.getvalue()


XLSX = xlsx_bytes()
PARQUET = parquet_bytes()


def read_or_report(data: bytes, name: str) -> RawTable | UnreadableFile:
    """The reader contract: a text table, or UnreadableFile with reasons in both languages."""
    try:
        table = read_table_bytes(data, name)
    except UnreadableFile as error:
        assert error.reason_en and error.reason_zh and error.hint_en and error.hint_zh
        return error
    assert all(dtype == pl.String for dtype in table.frame.dtypes), table.frame.schema
    assert len(set(table.frame.columns)) == table.frame.width
    assert table.first_data_row >= 1
    return table


@fuzz_settings(2.0)
@given(magic=st.sampled_from(MAGIC), body=st.binary(max_size=4096), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_are_a_table_or_a_report(magic, body, suffix):
    read_or_report(magic + body, f"f{suffix}")


@fuzz_settings(2.0)
@given(cut=st.integers(min_value=0, max_value=len(XLSX)))
def test_truncated_xlsx_is_reported_as_damaged(cut):
    result = read_or_report(XLSX[:cut], "529901_20260105.xlsx")
    if isinstance(result, RawTable):
        # only the whole file (or a cut inside trailing padding) may still read, and then fully.
        assert result.frame.height == len(ROWS)


@fuzz_settings(1.0)
@given(data=st.data())
def test_xlsx_with_flipped_bytes_never_escapes(data):
    damaged = bytearray(XLSX)
    for _ in range(data.draw(st.integers(1, 8))):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    read_or_report(bytes(damaged), "f.xlsx")


@fuzz_settings(0.5)
@given(cut=st.integers(min_value=0, max_value=len(PARQUET)), flips=st.lists(st.tuples(
    st.integers(0, len(PARQUET) - 1), st.integers(0, 255)), max_size=4))
def test_truncated_or_flipped_parquet_never_escapes(cut, flips):
    damaged = bytearray(PARQUET)
    for position, value in flips:
        damaged[position] = value
    read_or_report(bytes(damaged[:cut]), "f.parquet")


# Cell text a person could type: any printable unicode but the separator, quote and BOM (control
# characters make a file "binary", which is reported: covered by the random-bytes test).
cells = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters='",\ufeff'),
                max_size=12)


@fuzz_settings(1.0)
@given(rows=st.lists(st.lists(cells, min_size=len(HEADERS), max_size=len(HEADERS)), max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]), title=st.booleans())
def test_csv_cells_come_back_exactly(rows, encoding, title):
    text = ("青石县2026年低保对象花名册\r\n" if title else "") + ",".join(HEADERS) + "\r\n"
    text += "".join(",".join(row) + "\r\n" for row in rows)
    data = text.encode(encoding)
    table = read_or_report(data, "f.csv")
    if isinstance(table, UnreadableFile):
        # Only a file whose text is not what we wrote may be refused: the header must be found.
        pytest.fail(f"refused a well-formed {encoding} file: {table}")
    assert table.frame.columns == HEADERS
    assert table.header_row == 1 + title
    read = [[cell or "" for cell in row] for row in table.frame.rows()]
    assert read == rows


@fuzz_settings(1.0)
@given(utf8_rows=st.lists(st.sampled_from(ROWS), min_size=1, max_size=6),
       gb_rows=st.lists(st.sampled_from(ROWS), min_size=1, max_size=3), data=st.data())
def test_utf8_csv_with_gb18030_lines_is_reported_or_read_without_mojibake(utf8_rows, gb_rows, data):
    lines = [(",".join(HEADERS) + "\r\n").encode("utf-8")] + [(",".join(r) + "\r\n").encode("utf-8") for r in utf8_rows]
    for row in gb_rows:
        lines.insert(data.draw(st.integers(1, len(lines))), (",".join(row) + "\r\n").encode("gb18030"))
    result = read_or_report(b"".join(lines), "mixed.csv")
    if isinstance(result, UnreadableFile):
        assert "encoding" in result.reason_en
        return
    typed = {cell for row in ROWS for cell in row if cell}
    assert {cell for row in result.frame.rows() for cell in row if cell} <= typed, "mojibake accepted"


@fuzz_settings(0.3)
@given(headers=st.lists(st.text(min_size=0, max_size=30), min_size=0, max_size=40), body=st.text(max_size=200))
def test_arbitrary_header_texts(headers, body):
    text = "记录编号,姓名," + ",".join(json.dumps(h) for h in headers) + "\n" + body
    read_or_report(text.encode("utf-8", "surrogatepass"), "h.csv")


def test_ten_megabyte_cell_is_kept_whole():
    huge = "备" * 3_500_000  # ~10 MB in UTF-8
    data = (",".join(HEADERS) + "\n0001,王芳,," + huge + ",,\n0002,李四,,,,\n").encode("utf-8")
    table = read_or_report(data, "big.csv")
    assert isinstance(table, RawTable)
    assert table.frame.height == 2 and table.frame["身份证号"].to_list()[0] is None
    assert table.frame["性别"][0] == huge


def test_a_long_cell_in_the_first_rows_does_not_hide_the_header():
    data = (",".join(HEADERS) + "\n0001,王芳,," + "x" * 200_000 + ",,\n").encode("utf-8")
    table = read_or_report(data, "long.csv")
    assert isinstance(table, RawTable) and table.frame.columns == HEADERS


@pytest.mark.parametrize("named", [True, False])
def test_tens_of_thousands_of_columns(named):
    extra = 30_000
    header = HEADERS + ([f"extra{i}" for i in range(extra)] if named else [""] * extra)
    row = ROWS[0] + ["v"] * extra
    data = (",".join(header) + "\n" + ",".join(row) + "\n").encode("utf-8")
    result = read_or_report(data, "wide.csv")
    if named:
        # 30,000 unknown names out of 30,006: not a header row a department would send.
        assert isinstance(result, UnreadableFile) and "header" in result.reason_en
    else:
        assert isinstance(result, RawTable) and result.frame.width == len(HEADERS) + extra


@pytest.mark.parametrize("data", [b"\n", b"\r\n" * 1000, b",,,,\n,,,\n", b"\xef\xbb\xbf", b" "])
def test_no_columns_at_all_is_reported(data):
    assert isinstance(read_or_report(data, "none.csv"), UnreadableFile)


def test_xlsx_with_a_header_only_and_no_columns():
    assert isinstance(read_or_report(xlsx_bytes(headers=[], rows=[], title=False), "empty.xlsx"), UnreadableFile)


hostile_headers = st.lists(st.one_of(
    st.sampled_from(["^.*$", "^$", "^)$", "^*$", '"; DROP TABLE core.person; --', "column_3", "姓名", "记录编号", ""]),
    # at most two: a header row needs at least half of its names known
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=10)), max_size=2)


def write_any(fmt: str, headers: list[str], rows: list[list[str]]) -> bytes:
    if fmt == "xlsx":
        return xlsx_bytes(headers, rows, title=False)
    if fmt == "parquet":
        buffer = io.BytesIO()
        pl.DataFrame([list(c) for c in zip(*rows)], schema=headers, orient="col").write_parquet(buffer)
        return buffer.getvalue()
    from fuzz_support import csv_line

    return "".join(csv_line(r) for r in [headers, *rows]).encode("utf-8")


@fuzz_settings(0.5)
@given(extra=hostile_headers, fmt=st.sampled_from(["csv", "xlsx", "parquet"]))
def test_hostile_headers_are_kept_as_found_in_every_format(extra, fmt):
    headers = ["记录编号", "姓名", *extra]
    # a parquet file holds neither two columns of one name nor a nameless one (polars names it)
    assume(fmt != "parquet" or (len(set(headers)) == len(headers) and all(h.strip() for h in headers)))
    rows = [["0001", "王芳", *[f"v{i}" for i in range(len(extra))]]]
    table = read_or_report(write_any(fmt, headers, rows), f"h.{fmt}")
    assert isinstance(table, RawTable), table
    from sources.readers.header_row import column_names

    # every non-empty value survives, under its header as found
    assert table.frame.columns == (headers if fmt == "parquet" else column_names(headers))
    assert table.frame.rows() == [tuple(rows[0])]
