"""Write one damaged department frame in one of the formats departments use."""

from __future__ import annotations

import io
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl

EXTENSIONS = {"csv_utf8": "csv", "csv_utf8_bom": "csv", "csv_gb18030": "csv", "xlsx": "xlsx", "parquet": "parquet"}
SHANGHAI = timezone(timedelta(hours=8))


def first_data_row(fmt: str, title_rows: int) -> int:
    """1-based row number of the first data row as a person sees it (see the contract)."""
    if fmt == "parquet":
        return 1
    if fmt == "xlsx":
        return title_rows + 2
    return 2


def write(frame: pl.DataFrame, path: Path, fmt: str, title_rows: list[str], excel_date_cols: set[str],
          extract_date: date) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        frame.write_parquet(path, statistics=False)
    elif fmt == "xlsx":
        _write_xlsx(frame, path, title_rows, excel_date_cols, extract_date)
    else:
        buf = io.StringIO()
        crlf = fmt == "csv_gb18030"  # exported from Excel on Windows
        frame.write_csv(buf, null_value="", line_terminator="\r\n" if crlf else "\n", quote_style="necessary")
        text = buf.getvalue()
        if fmt == "csv_utf8":
            path.write_bytes(text.encode("utf-8"))
        elif fmt == "csv_utf8_bom":
            path.write_bytes(text.encode("utf-8-sig"))
        else:
            path.write_bytes(text.encode("gb18030"))
    # the extract date as arrival time (what counts when the name carries no date)
    ts = datetime(extract_date.year, extract_date.month, extract_date.day, 18, 0, tzinfo=SHANGHAI).timestamp()
    os.utime(path, (ts, ts))


def _write_xlsx(frame: pl.DataFrame, path: Path, title_rows: list[str], excel_date_cols: set[str], extract_date: date) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    # a fixed creation time keeps the bytes identical for the same seed
    wb.set_properties({"created": datetime(extract_date.year, extract_date.month, extract_date.day, 9, 0)})
    ws = wb.add_worksheet("Sheet1")
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    row = 0
    for title in title_rows:
        ws.write_string(row, 0, title, bold)
        row += 1
    ws.write_row(row, 0, frame.columns, bold)
    row += 1
    date_idx = [i for i, c in enumerate(frame.columns) if c in excel_date_cols]
    for values in frame.iter_rows():
        for i, v in enumerate(values):
            if v is None:
                continue
            if i in date_idx and len(v) == 10 and v[4] == "-" and v[7] == "-":
                try:
                    ws.write_datetime(row, i, datetime.strptime(v, "%Y-%m-%d"), date_fmt)
                    continue
                except ValueError:
                    pass
            ws.write_string(row, i, v)
        row += 1
    wb.close()
