"""Builders for real extract files written into tmp_path."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import xlsxwriter

HEADERS_ZH = ["记录编号", "救助家庭编号", "姓名", "身份证号", "性别", "村代码", "月救助金额（元）"]
HEADERS_EN = ["record_id", "case_no", "name", "id_number", "gender", "village_code", "monthly_benefit"]
ROWS = [
    ["0001", "J01", "王芳", "52990119800101002X", "女", "529901100001", "450"],
    ["0002", "J01", "李 四", "5.29901E+17", "男", "529901100001", "450.5"],
    ["0003", "J02", "阿依古丽·买买提", "529901200501011234", "2", "", ""],
]
TITLE = "青石县2026年低保对象花名册"


def csv_bytes(headers, rows, encoding="utf-8", title_rows=0) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for _ in range(title_rows):
        writer.writerow([TITLE])
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def write_xlsx(path: Path, headers, rows, title_rows=0, numeric_ids=False) -> Path:
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("花名册")
    for r in range(title_rows):
        sheet.write(r, 0, TITLE if r == 0 else "填报单位：青石县民政局")
    sheet.write_row(title_rows, 0, headers)
    for offset, row in enumerate(rows, start=title_rows + 1):
        for col, value in enumerate(row):
            if numeric_ids and value.isdigit() and len(value) >= 16:
                sheet.write_number(offset, col, float(value))
            else:
                sheet.write_string(offset, col, value)
    workbook.close()
    return path


def write_parquet(path: Path, headers, rows) -> Path:
    pl.DataFrame([list(col) for col in zip(*rows)], schema=headers, orient="col").write_parquet(path)
    return path
