"""Record preparation shared by every stage: dense integer ids and per-record codes.

Each record gets `__id`, a UInt32 equal to its row position after sorting by
the key columns, so any stage can fetch a record's value with a gather instead
of a join, and the numbering (hence every output) is independent of the input
row order.
"""

from __future__ import annotations

import polars as pl

from entity_resolution.settings import LinkageSettings

ID = "__id"


class SettingsDataMismatch(ValueError):
    """The frame lacks a column the settings use, or the record keys are not unique."""


def prepare_records(frame: pl.DataFrame, settings: LinkageSettings) -> pl.DataFrame:
    missing = [c for c in settings.required_columns() if c not in frame.columns]
    if missing:
        raise SettingsDataMismatch(f"columns used by the settings are missing from the data: {missing}")
    keys = settings.key_columns
    if frame.select(pl.struct(keys).is_duplicated().any()).item():
        raise SettingsDataMismatch(f"record keys {keys} are not unique")
    if frame.height >= 2**32 - 1:
        raise SettingsDataMismatch("more than 2**32 records")
    columns = settings.required_columns()
    return (
        frame.select(columns)
        .sort(keys, nulls_last=True)
        .with_row_index(ID)
        .with_columns(pl.col(ID).cast(pl.UInt32))
    )


def dense_code(frame: pl.DataFrame, columns: list[str]) -> pl.Series:
    """0-based code of each row's value tuple; equal tuples get equal codes, null is a value of its own."""
    if len(columns) == 1:
        ranks = frame.select(pl.col(columns[0]).rank("dense")).to_series()
        if ranks.null_count():
            ranks = ranks.fill_null(int(ranks.max() or 0) + 1)
    else:
        ranks = frame.select(pl.struct(columns).rank("dense")).to_series()
    return (ranks.cast(pl.Int64) - 1).cast(pl.UInt32)


def blank_to_null(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Empty or whitespace-only strings carry no information; treat them as missing."""
    if dtype == pl.String:
        return pl.when(expr.str.strip_chars() == "").then(None).otherwise(expr)
    return expr
