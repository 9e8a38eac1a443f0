"""Term frequencies: how common each value of a comparison's column is.

Agreement on a rare name weighs more than on 张伟. A value's frequency is its
share of the non-null values of ALL records, kept with the trained parameters
as a table, so a partition linked alone weighs a name exactly as a run over
every partition would.
"""

from __future__ import annotations

import polars as pl

from entity_resolution.records import blank_to_null
from entity_resolution.settings import Comparison

VALUE = "value"
TF = "tf"


def _values(records: pl.DataFrame, comparison: Comparison) -> pl.Expr:
    column = comparison.tf_source_column
    return blank_to_null(pl.col(column), records.schema[column]).alias(VALUE)


def term_frequency_table(records: pl.DataFrame, comparison: Comparison) -> pl.DataFrame:
    """``value, tf``: each non-null value's share of the non-null values."""
    values = records.select(_values(records, comparison)).drop_nulls()
    return values.group_by(VALUE).agg(pl.len().alias(TF)).with_columns(
        (pl.col(TF) / pl.lit(values.height, dtype=pl.UInt32)).cast(pl.Float64)
    ).sort(VALUE)


def term_frequency_tables(records: pl.DataFrame, comparisons: list[Comparison]) -> dict[str, pl.DataFrame]:
    return {c.name: term_frequency_table(records, c) for c in comparisons if c.tf_level_indexes()}


def record_term_frequencies(
    records: pl.DataFrame, comparison: Comparison, table: pl.DataFrame | None = None
) -> pl.Series:
    """Per record: the frequency of its value (null when the value is missing)."""
    name = f"tf_{comparison.name}"
    if table is None:
        value = _values(records, comparison)
        return records.select(
            pl.when(value.is_null()).then(None).otherwise(pl.len().over(value) / value.count())
            .cast(pl.Float64).alias(name)
        ).to_series()
    return (
        records.select(_values(records, comparison))
        .join(table, on=VALUE, how="left", maintain_order="left")
        .get_column(TF).alias(name)
    )
