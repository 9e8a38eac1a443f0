"""Read one landed file as a text table (``read_table``), whatever its format.

Every reader returns a :class:`RawTable` of ``pl.String`` columns with the
headers as found, or raises :class:`UnreadableFile` with an English and a
Chinese reason and a hint of what to send instead. No other exception is
meant to escape: a department gets a report, never a stack trace.
"""

from __future__ import annotations

from pathlib import Path

from sources.readers.csv import read_csv_bytes
from sources.readers.excel import read_excel_bytes
from sources.readers.parquet import read_parquet_bytes
from sources.readers.table import RawTable, UnreadableFile, is_rust_panic

__all__ = ["RawTable", "UnreadableFile", "read_table", "read_table_bytes", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".xls", ".parquet")
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PARQUET = b"PAR1"


def read_table(path: Path) -> RawTable:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableFile(
            f"The file could not be opened ({error.strerror or error}).",
            "无法打开文件（文件可能正在被占用或无读取权限）。",
            "请确认文件已完整上传后重新发送。",
            "Make sure the file was uploaded completely and send it again.",
        ) from error
    return read_table_bytes(data, path.name)


def read_table_bytes(data: bytes, file_name: str) -> RawTable:
    """``read_table`` for bytes already in memory (ingest hashes and reads the same bytes)."""
    suffix = Path(file_name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise unsupported(suffix)
    if not data:
        raise empty_file()
    try:
        # The content decides over the name: an .xlsx saved as "x.csv" is still an .xlsx.
        if data.startswith(_ZIP) or suffix == ".xlsx":
            return read_excel_bytes(data)
        if data.startswith(_OLE) or suffix == ".xls":
            return read_excel_bytes(data, xlsx=False)
        if data.startswith(_PARQUET) or suffix == ".parquet":
            return read_parquet_bytes(data)
        return read_csv_bytes(data)
    except UnreadableFile:
        raise
    except BaseException as error:  # the promise is a report, never a stack trace
        if not (isinstance(error, Exception) or is_rust_panic(error)):
            raise  # KeyboardInterrupt, SystemExit
        raise UnreadableFile(
            f"The file could not be read as a table ({type(error).__name__}).",
            "文件无法作为表格读取。",
        ) from error


def empty_file() -> UnreadableFile:
    return UnreadableFile(
        "The file is empty (0 bytes): nothing arrived, perhaps the upload or export failed.",
        "文件是空的（0 字节），没有任何内容，可能导出或上传失败。",
        "请重新导出数据并确认文件大小不为 0 后再发送。",
        "Export the data again and check the file is not 0 bytes before sending.",
    )


def unsupported(suffix: str) -> UnreadableFile:
    shown = suffix or "(none)"
    return UnreadableFile(
        f"Files of type '{shown}' are not accepted; we read .xlsx, .csv and .parquet.",
        f"不接受“{shown}”类型的文件；只能读取 .xlsx、.csv 和 .parquet 文件。",
        "请把数据另存为 Excel（.xlsx）或 CSV（UTF-8）后重新发送，不要发送 PDF、Word 或图片。",
        "Save the data as Excel (.xlsx) or CSV (UTF-8) and send that; not PDF, Word or images.",
    )
