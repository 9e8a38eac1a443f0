"""Vectorised normalisers, one module per column kind.

Every module exposes functions that build polars expressions from a column
name; nothing here loops over rows in Python. Where a value needs a Python
library (opencc, pypinyin, the gazetteer matcher), :func:`map_distinct`
applies it to the distinct values of the batch only, so the cost follows the
number of distinct values, not the number of rows.

Shared conventions: ``clean(col)`` is the NFKC-normalised, trimmed text with
empty strings turned into null; ``reason(...)`` expressions return a short
English code (e.g. ``"impossible_date"``) or null when the value is fine or
blank. ``schemas.validate`` prefixes reasons with the field name to build the
``flags`` column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

#: Excel turns long digit strings into floats: ``5.29901E+17`` or ``529901.0``.
EXCEL_E_NOTATION = r"^[0-9]+(\.[0-9]+)?[Ee][+-]?[0-9]+$"
EXCEL_DECIMAL = r"^[0-9]+\.[0-9]+$"


def clean(col: str | pl.Expr) -> pl.Expr:
    """NFKC (full-width digits, letters, brackets and spaces become ASCII), trimmed; empty -> null."""
    expr = pl.col(col) if isinstance(col, str) else col
    text = expr.cast(pl.String).str.normalize("NFKC").str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


def squeeze(col: str | pl.Expr) -> pl.Expr:
    """:func:`clean` with every whitespace character removed (IDs, codes, phones, enum spellings)."""
    return clean(col).str.replace_all(r"\s+", "")


def map_distinct(
    expr: pl.Expr, function: Callable[[Any], Any], return_dtype: pl.DataType = pl.String()
) -> pl.Expr:
    """Apply a per-value Python ``function`` to the distinct non-null values only.

    The results are joined back with ``replace_strict`` so a million rows with
    ten thousand distinct names cost ten thousand calls.
    """

    def apply(series: pl.Series) -> pl.Series:
        distinct = series.drop_nulls().unique()
        mapped = pl.Series([function(value) for value in distinct.to_list()], dtype=return_dtype)
        return series.replace_strict(distinct, mapped, default=None, return_dtype=return_dtype)

    return expr.map_batches(apply, return_dtype=return_dtype, is_elementwise=True)
