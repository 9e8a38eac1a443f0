"""Comparison levels for every candidate pair, computed in bulk.

Most candidate pairs repeat a small number of value pairs (the same two
spellings of a village, the same two birth dates), so each comparison is
evaluated once per DISTINCT pair of value tuples and joined back: records get
a dense code per comparison, a pair becomes one UInt64 (code_l, code_r), and
string similarities run through rapidfuzz's `cpdist` over those distinct pairs
only, on all cores. There is no Python loop over pairs.

The level of a pair is the index (0-based, in settings order) of the first
level whose condition holds; the last level is always `else`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
from rapidfuzz.distance import OSA, DamerauLevenshtein, Hamming, JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from entity_resolution.records import blank_to_null, dense_code
from entity_resolution.settings import Comparison, ComparisonLevel

GAMMA_DTYPE = pl.Int8


def compare(records: pl.DataFrame, pairs: pl.DataFrame, comparisons: list[Comparison]) -> pl.DataFrame:
    """`pairs` (id_l, id_r, ...) plus one level column per comparison."""
    return pairs.with_columns(
        [comparison_levels(records, pairs, comparison) for comparison in comparisons]
    )


def code_column(comparison: Comparison) -> str:
    return f"__code_{comparison.name}"


def add_comparison_codes(records: pl.DataFrame, comparisons: list[Comparison]) -> pl.DataFrame:
    """Attach each comparison's per-record value-tuple code once, for every later compare() to reuse."""
    return records.with_columns(
        [dense_code(records, c.columns).alias(code_column(c)) for c in comparisons if code_column(c) not in records.columns]
    )


def comparison_levels(records: pl.DataFrame, pairs: pl.DataFrame, comparison: Comparison) -> pl.Series:
    columns = comparison.columns
    name = code_column(comparison)
    codes = records[name] if name in records.columns else dense_code(records, columns)
    # Row i of `tuples` holds the values whose code is i.
    tuples = (
        records.select(columns)
        .with_columns(codes.alias("__code"))
        .unique("__code", keep="first")
        .sort("__code")
        .drop("__code")
    )
    code_l = codes.to_numpy()[pairs["id_l"].to_numpy()]
    code_r = codes.to_numpy()[pairs["id_r"].to_numpy()]
    distinct_l, distinct_r, spread = _distinct_code_pairs(code_l, code_r, len(tuples))
    value_pairs = pl.concat(
        [
            tuples[distinct_l].rename({c: f"{c}_l" for c in columns}),
            tuples[distinct_r].rename({c: f"{c}_r" for c in columns}),
        ],
        how="horizontal",
    )
    levels = evaluate_levels(value_pairs, comparison).to_numpy()
    return pl.Series(comparison.gamma_column, spread(levels), dtype=GAMMA_DTYPE)


def _distinct_code_pairs(code_l: np.ndarray, code_r: np.ndarray, n_codes: int):
    """Distinct (code_l, code_r) and a function spreading per-distinct results back to every pair.

    Few codes (gender, village): a dense table indexed by code_l * n + code_r,
    no sorting at all. Many codes (names, IDs): one dense rank of the packed
    pair gives each pair the index of its distinct value.
    """
    cells = n_codes * n_codes
    if cells <= max(1 << 16, min(1 << 24, 4 * len(code_l))):
        flat = code_l.astype(np.int64) * n_codes + code_r
        present = np.zeros(cells, dtype=bool)
        present[flat] = True
        distinct = np.flatnonzero(present)

        def spread_table(levels: np.ndarray) -> np.ndarray:
            table = np.zeros(cells, dtype=np.int8)
            table[distinct] = levels
            return table[flat]

        return distinct // n_codes, distinct % n_codes, spread_table
    packed = (code_l.astype(np.uint64) << np.uint64(32)) | code_r.astype(np.uint64)
    inverse = pl.Series(packed).rank("dense").to_numpy().astype(np.int64) - 1
    distinct = np.empty(int(inverse.max()) + 1 if len(inverse) else 0, dtype=np.uint64)
    distinct[inverse] = packed

    def spread_rank(levels: np.ndarray) -> np.ndarray:
        return levels.astype(np.int8)[inverse]

    return (
        (distinct >> np.uint64(32)).astype(np.int64),
        (distinct & np.uint64(0xFFFFFFFF)).astype(np.int64),
        spread_rank,
    )


def evaluate_levels(value_pairs: pl.DataFrame, comparison: Comparison) -> pl.Series:
    """Level index for each row of a frame holding `<column>_l` and `<column>_r` for the comparison's columns."""
    frame = value_pairs.with_columns(
        [
            blank_to_null(pl.col(name), value_pairs.schema[name]).alias(name)
            for name in value_pairs.columns
        ]
    )
    measures = _Measures(frame)
    expr: pl.Expr | None = None
    for index, level in enumerate(comparison.levels):
        condition = _condition(level, comparison.level_columns(level), measures)
        if expr is None:
            expr = pl.when(condition).then(pl.lit(index, GAMMA_DTYPE))
        else:
            expr = expr.when(condition).then(pl.lit(index, GAMMA_DTYPE))
    assert expr is not None
    result = frame.with_columns(measures.columns()).select(
        expr.otherwise(pl.lit(len(comparison.levels) - 1, GAMMA_DTYPE)).alias(comparison.gamma_column)
    )
    return result.to_series()


class _Measures:
    """Numeric measures (similarity, distance) over the value pairs, each computed once and only on non-null rows."""

    def __init__(self, frame: pl.DataFrame):
        self.frame = frame
        self._computed: dict[str, pl.Series] = {}

    def columns(self) -> list[pl.Series]:
        return list(self._computed.values())

    def string_measure(self, column: str, name: str, scorer: Callable, dtype: pl.DataType) -> pl.Expr:
        alias = f"__{name}_{column}"
        if alias not in self._computed:
            left = self.frame[f"{column}_l"].cast(pl.String)
            right = self.frame[f"{column}_r"].cast(pl.String)
            both = (left.is_not_null() & right.is_not_null()).to_numpy()
            values = np.full(self.frame.height, np.nan)
            if both.any():
                values[both] = cpdist(
                    left.filter(both).to_list(),
                    right.filter(both).to_list(),
                    scorer=scorer,
                    workers=-1,
                )
            self._computed[alias] = pl.Series(alias, values, nan_to_null=True).cast(dtype)
        return pl.col(alias)

    def date(self, column: str, side: str) -> pl.Expr:
        name = f"{column}_{side}"
        dtype = self.frame.schema[name]
        expr = pl.col(name)
        if dtype == pl.String:
            return expr.str.to_date(strict=False)
        if isinstance(dtype, pl.Datetime):
            return expr.dt.date()
        return expr


def _equal_length(column: str) -> pl.Expr:
    return pl.col(f"{column}_l").cast(pl.String).str.len_chars() == pl.col(f"{column}_r").cast(
        pl.String
    ).str.len_chars()


def _condition(level: ComparisonLevel, columns: list[str], m: _Measures) -> pl.Expr:
    def each(build: Callable[[str], pl.Expr]) -> pl.Expr:
        return pl.all_horizontal([build(c) for c in columns])

    match level.type:
        case "null":
            return pl.any_horizontal(
                [pl.col(f"{c}_l").is_null() | pl.col(f"{c}_r").is_null() for c in columns]
            )
        case "exact" | "exact_on_other_columns":
            return each(lambda c: pl.col(f"{c}_l") == pl.col(f"{c}_r"))
        case "jaro_winkler":
            return each(
                lambda c: m.string_measure(c, "jw", JaroWinkler.normalized_similarity, pl.Float32)
                >= level.threshold
            )
        case "levenshtein":
            return each(
                lambda c: m.string_measure(c, "lev", Levenshtein.distance, pl.Int32) <= level.distance
            )
        case "damerau":
            return each(
                lambda c: m.string_measure(c, "dl", DamerauLevenshtein.distance, pl.Int32)
                <= level.distance
            )
        case "id_one_digit_diff":
            return each(
                lambda c: _equal_length(c)
                & (m.string_measure(c, "ham", Hamming.distance, pl.Int32) == 1)
            )
        case "id_transposition":
            # Same length, two positions differ, one adjacent swap explains it.
            return each(
                lambda c: _equal_length(c)
                & (m.string_measure(c, "ham", Hamming.distance, pl.Int32) == 2)
                & (m.string_measure(c, "osa", OSA.distance, pl.Int32) == 1)
            )
        case "date_swap_day_month":
            return each(lambda c: _day_month_swapped(m.date(c, "l"), m.date(c, "r")))
        case "date_within_days":
            return each(
                lambda c: (m.date(c, "l") - m.date(c, "r")).dt.total_days().abs() <= level.days
            )
        case "same_year":
            return each(lambda c: m.date(c, "l").dt.year() == m.date(c, "r").dt.year())
        case "else":
            return pl.lit(True)
    raise ValueError(level.type)


def _day_month_swapped(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    return (
        (left.dt.year() == right.dt.year())
        & (left.dt.month() == right.dt.day())
        & (left.dt.day() == right.dt.month())
        & (left != right)
    )
