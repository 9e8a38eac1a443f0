"""Parquet -> RawTable: column names are the headers, every value cast to text."""

from __future__ import annotations

import io

import polars as pl

from sources.readers.csv import no_header_row
from sources.readers.header_row import is_header_row
from sources.readers.table import RawTable, UnreadableFile, is_rust_panic

_EXACT_LIMIT = 1e15


def read_parquet_bytes(data: bytes) -> RawTable:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except BaseException as error:  # any damage means the same thing to a department
        if not (isinstance(error, Exception) or is_rust_panic(error)):
            raise
        raise damaged_parquet() from error
    if not is_header_row(frame.columns):
        raise no_header_row()
    if binary := [series for series in frame.iter_columns() if series.dtype == pl.Binary]:
        frame = frame.with_columns(_bytes_as_text(series) for series in binary)
    return RawTable(frame=frame.select(_as_text(frame.schema)), header_row=0, first_data_row=1, encoding=None)


def _as_text(schema: pl.Schema) -> list[pl.Expr]:
    exprs = []
    for position, (name, dtype) in enumerate(schema.items()):
        # by position: a column named like "^.*$" would be a regex to pl.col
        column = pl.nth(position)
        if dtype == pl.String:
            exprs.append(column)
        elif dtype.is_float():
            # 12.0 -> "12", as a person typed it; non-integers keep their digits.
            whole = column.is_finite() & (column == column.round()) & (column.abs() < _EXACT_LIMIT)
            exprs.append(pl.when(whole).then(column.cast(pl.Int64).cast(pl.String))
                         .otherwise(column.cast(pl.String)).alias(name))
        elif dtype.is_nested() or dtype == pl.Object:
            exprs.append(pl.struct(column).struct.json_encode().alias(name))
        elif dtype == pl.Datetime or isinstance(dtype, pl.Datetime):
            exprs.append(column.dt.to_string("%Y-%m-%d %H:%M:%S").str.strip_suffix(" 00:00:00").alias(name))
        else:
            exprs.append(column.cast(pl.String))
    return exprs


def _bytes_as_text(series: pl.Series) -> pl.Series:
    """Bytes columns (a legacy export's strings): UTF-8 when they are, else GB18030, as a CSV is read."""
    try:
        return series.cast(pl.String)
    except pl.exceptions.ComputeError:
        pass
    distinct = series.drop_nulls().unique()
    try:
        text = pl.Series([value.decode("gb18030") for value in distinct.to_list()], dtype=pl.String)
    except UnicodeDecodeError:
        raise undecodable_bytes(series.name) from None
    return series.replace_strict(distinct, text, return_dtype=pl.String)


def undecodable_bytes(column: str) -> UnreadableFile:
    return UnreadableFile(
        f"Column '{column}' holds bytes that are neither UTF-8 nor GBK/GB18030 text.",
        f"“{column}”列中的内容既不是 UTF-8 也不是 GBK/GB18030 编码的文字，无法读取。",
        "请把该列导出为文本（字符串）类型后重新发送，或改为发送 Excel（.xlsx）或 CSV 文件。",
        "Export that column as text (string) and send the file again, or send an Excel (.xlsx) or CSV file.",
    )


def damaged_parquet() -> UnreadableFile:
    return UnreadableFile(
        "The Parquet file is damaged or incomplete and cannot be read.",
        "Parquet 文件已损坏或不完整，无法读取。",
        "请重新导出并完整发送，或改为发送 Excel（.xlsx）或 CSV 文件。",
        "Export it again and send it in full, or send an Excel (.xlsx) or CSV file instead.",
    )
