from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from sources.readers import RawTable, UnreadableFile, read_table
from sources.readers.excel import excel_general
from extract_builders import HEADERS_EN, HEADERS_ZH, ROWS, csv_bytes, write_parquet, write_xlsx

HEADERS = {"zh": HEADERS_ZH, "en": HEADERS_EN}


def assert_rows_preserved(table: RawTable, headers: list[str]) -> None:
    assert table.frame.columns == headers
    assert all(dtype == pl.String for dtype in table.frame.dtypes)
    got = [[v or "" for v in row] for row in table.frame.iter_rows()]
    assert got == ROWS


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
@pytest.mark.parametrize("title_rows", [0, 2])
def test_csv_encodings_headers_and_row_numbers(tmp_path, encoding, language, title_rows):
    path = tmp_path / "529901_20260105.csv"
    path.write_bytes(csv_bytes(HEADERS[language], ROWS, encoding, title_rows))
    table = read_table(path)
    assert_rows_preserved(table, HEADERS[language])
    assert table.encoding == ("gb18030" if encoding == "gbk" else encoding)
    assert table.header_row == title_rows + 1
    assert table.first_data_row == title_rows + 2


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("title_rows", [0, 1, 2])
def test_xlsx_title_rows_and_text_values(tmp_path, language, title_rows):
    path = write_xlsx(tmp_path / "a.xlsx", HEADERS[language], ROWS, title_rows)
    table = read_table(path)
    assert_rows_preserved(table, HEADERS[language])
    assert (table.header_row, table.first_data_row) == (title_rows + 1, title_rows + 2)
    assert table.encoding is None


def test_xlsx_numbers_are_shown_as_excel_shows_them(tmp_path):
    path = tmp_path / "n.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet()
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    # two empty rows above the title: calamine skips them, row numbers must not
    sheet.write(2, 0, "青石县2026年花名册")
    sheet.write_row(3, 0, ["记录编号", "姓名", "身份证号", "出生日期", "月救助金额"])
    sheet.write_row(4, 0, ["007", "王芳"])
    sheet.write_number(4, 2, 529901200501011234)  # typed into Excel as a number: digits lost
    sheet.write_number(4, 3, 44927)
    sheet.write_number(4, 4, 450.0)
    sheet.write_row(5, 0, ["008", "李四", "529901200501011234"])  # the same digits as text: kept
    from datetime import datetime
    sheet.write_datetime(5, 3, datetime(2005, 1, 1), date_format)
    sheet.write_number(5, 4, 450.5)
    workbook.close()
    table = read_table(path)
    assert (table.header_row, table.first_data_row) == (4, 5)
    assert table.frame.rows() == [
        ("007", "王芳", "5.29901E+17", "44927", "450"),
        ("008", "李四", "529901200501011234", "2005-01-01", "450.5"),
    ]


def test_excel_general_format():
    assert excel_general(44927.0) == "44927"
    assert excel_general(529901200501011234.0) == "5.29901E+17"
    assert excel_general(5e17) == "5E+17"
    assert excel_general(0.1 + 0.2) == "0.3"


def test_xlsx_numeric_ids_become_excel_damaged_text(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", HEADERS_ZH, ROWS, numeric_ids=True)
    ids = read_table(path).frame["身份证号"].to_list()
    assert ids == ["52990119800101002X", "5.29901E+17", "5.29901E+17"]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_parquet(tmp_path, language):
    table = read_table(write_parquet(tmp_path / "a.parquet", HEADERS[language], ROWS))
    assert_rows_preserved(table, HEADERS[language])
    assert (table.header_row, table.first_data_row) == (0, 1)


def test_parquet_non_text_columns_cast_to_text(tmp_path):
    path = tmp_path / "t.parquet"
    pl.DataFrame({"姓名": ["王芳"], "身份证号": ["0012"], "家庭人口": [3], "月救助金额": [450.0]}).write_parquet(path)
    assert read_table(path).frame.rows() == [("王芳", "0012", "3", "450")]


def test_csv_blank_and_ragged_rows_keep_row_numbers(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("青石县花名册\n记录编号,姓名,身份证号,\n0001,王芳,X1\n\n,,,\n0002,李四\n0003,赵五,X3,,extra\n", "utf-8")
    table = read_table(path)
    assert table.header_row == 2 and table.first_data_row == 3
    frame = table.frame
    assert frame.columns == ["记录编号", "姓名", "身份证号", "column_5"]
    assert frame["记录编号"].to_list() == ["0001", None, None, "0002", "0003"]  # rows 3..7
    assert frame["column_5"].to_list() == [None, None, None, None, "extra"]


def test_csv_tab_separated(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("姓名\t身份证号\n王芳\t0012\n", "utf-8")
    assert read_table(path).frame.rows() == [("王芳", "0012")]


def test_xlsx_named_csv_is_read_as_xlsx(tmp_path):
    write_xlsx(tmp_path / "a.xlsx", HEADERS_ZH, ROWS)
    path = tmp_path / "a.csv"
    path.write_bytes((tmp_path / "a.xlsx").read_bytes())
    assert_rows_preserved(read_table(path), HEADERS_ZH)


def unreadable(path: Path) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as caught:
        read_table(path)
    error = caught.value
    assert error.reason_en and error.reason_zh and error.hint_zh and error.hint_en
    return error


def test_empty_file(tmp_path):
    for name in ("e.csv", "e.xlsx", "e.parquet"):
        (tmp_path / name).write_bytes(b"")
        assert "empty" in unreadable(tmp_path / name).reason_en
        assert "空" in unreadable(tmp_path / name).reason_zh


def test_truncated_xlsx(tmp_path):
    whole = write_xlsx(tmp_path / "whole.xlsx", HEADERS_ZH, ROWS).read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    error = unreadable(path)
    assert "damaged or incomplete" in error.reason_en and "损坏" in error.reason_zh


def test_binary_garbage(tmp_path):
    path = tmp_path / "g.csv"
    path.write_bytes(bytes(range(256)) * 40)
    assert "binary" in unreadable(path).reason_en


def test_unknown_encoding(tmp_path):
    path = tmp_path / "u.csv"
    # UTF-8 headers broken by stray bytes that are neither UTF-8 nor GB18030
    path.write_bytes("姓名,身份证号\n".encode() + b"\xff\xfe\x80\x80,\xff\n" * 5)
    error = unreadable(path)
    assert "encoding" in error.reason_en and "编码" in error.reason_zh


def test_no_header_row(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("a,b,c\n1,2,3\n", "utf-8")
    assert "No header row" in unreadable(path).reason_en
    xlsx = write_xlsx(tmp_path / "n.xlsx", ["甲", "乙"], [["1", "2"]])
    assert "No header row" in unreadable(xlsx).reason_en


def test_unsupported_extension(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF-1.4 ...")
    error = unreadable(path)
    assert ".pdf" in error.reason_en and ".xlsx" in error.hint_en


def test_header_only_file(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("姓名,身份证号\n", "utf-8")
    table = read_table(path)
    assert table.frame.height == 0 and table.frame.columns == ["姓名", "身份证号"]


def test_300k_row_gb18030_csv_keeps_every_row(tmp_path):
    row = "0001,J01,王芳,52990119800101002X,女,529901100001,450\r\n"
    path = tmp_path / "big.csv"
    path.write_bytes((",".join(HEADERS_ZH) + "\r\n" + row * 300_000).encode("gb18030"))
    table = read_table(path)
    assert table.frame.height == 300_000
    assert table.encoding == "gb18030"
    assert table.frame.row(-1) == tuple(row.strip().split(","))
