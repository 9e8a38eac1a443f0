"""The reader output (``RawTable``) and the one error every reader raises."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class RawTable:
    """A file read as text: every column ``pl.String``, headers as found.

    ``header_row`` and ``first_data_row`` are 1-based physical rows as a person
    sees them (CSV line, Excel row); for Parquet ``header_row`` is 0 and data
    rows are numbered ``1 + index``. Frame row ``i`` is physical row
    ``first_data_row + i`` (blank rows are kept so this holds).
    """

    frame: pl.DataFrame
    header_row: int
    first_data_row: int
    encoding: str | None


def is_rust_panic(error: BaseException) -> bool:
    """A panic inside a Rust reader (polars, calamine) reaches Python as pyo3's ``PanicException``,
    which derives from ``BaseException``: ``except Exception`` lets it through."""
    return type(error).__name__ == "PanicException"


class UnreadableFile(Exception):
    """A file that cannot be read as a table, with reasons a department can act on.

    Argument order follows ``docs/contracts.md``:
    ``UnreadableFile(reason_en, reason_zh, hint_zh, hint_en)``.
    """

    def __init__(self, reason_en: str, reason_zh: str, hint_zh: str = "", hint_en: str = "") -> None:
        super().__init__(reason_en)
        self.reason_en = reason_en
        self.reason_zh = reason_zh
        self.hint_zh = hint_zh or HINT_ZH
        self.hint_en = hint_en or HINT_EN

    def __str__(self) -> str:
        return f"{self.reason_en} / {self.reason_zh}"


HINT_ZH = (
    "请重新导出并发送完整的表格文件：Excel（.xlsx，第一个工作表）、CSV（UTF-8 或 GBK 编码，逗号分隔）"
    "或 Parquet；第一行（或标题行下方）为列名，例如“姓名、身份证号”。文件名请使用“县代码_日期”，如 529901_20260105.xlsx。"
)
HINT_EN = (
    "Please export and send the complete table again as Excel (.xlsx, first sheet), CSV (UTF-8 or GBK, "
    "comma separated) or Parquet, with the column headers in the first row (or just below a title row), "
    "e.g. 姓名, 身份证号. Name the file <county code>_<date>, e.g. 529901_20260105.xlsx."
)
