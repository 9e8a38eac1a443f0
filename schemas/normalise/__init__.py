"""Vectorised normalisers, one module per column kind.

Every module exposes ``normalise(col, out=None, ...) -> Stages``: a short list
of ``{name: expression}`` dicts, each to be applied with ``with_columns``
after the previous one. The stages exist because polars does not reliably
share a sub-expression used several times (an ID's cleaned text feeds its
check digit, birth date, status ...): naming it once as a temporary column
makes every later use a column read. Temporary names contain ``__`` and are
dropped by :func:`run`. Only the first stage reads the raw input columns (later
stages of other fields may already have replaced them with normalised
values). The last stage holds the output columns and, when
something is wrong, ``<out>__flag`` (one ``"<field>:<reason>"`` string) or
``<out>__flags`` (a list of them).

Nothing here loops over rows in Python. Where a value needs a Python
library (opencc, pypinyin, the gazetteer matcher), :func:`map_distinct`
applies it to the distinct values only.

Those stages are the reference. Ingestion runs each module's ``fast(...)``
instead (see :class:`Fast`): the same outputs for the values written the usual
way with much less work, the other rows marked atypical and handed to the
reference stages; ``tests/schemas/test_fast_paths.py`` holds the two together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any, TypeVar

import numpy as np
import polars as pl
import pyarrow as pa

Stages = list[dict[str, pl.Expr]]
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

#: Excel turns long digit strings into floats: ``5.29901E+17`` or ``529901.0``.
EXCEL_E_NOTATION = r"^[0-9]+(\.[0-9]+)?[Ee][+-]?[0-9]+$"
EXCEL_DECIMAL = r"^[0-9]+\.[0-9]+$"


# NFKC leaves ASCII and the CJK unified ideographs (basic block and extension A)
# unchanged; only strings with another character can change.
_NFKC_MAY_CHANGE = r"[^\x00-\x7F\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}]"


def nfkc_series(series: pl.Series) -> pl.Series:
    # str.normalize costs about a microsecond a string; most values need nothing.
    frame = series.to_frame("s")
    text = pl.col("s")
    if frame.select((text.str.len_bytes() == text.str.len_chars()).all()).item():
        return series  # all ASCII: cheaper to see than the character class below
    positions = frame.select(pl.arg_where(text.str.contains(_NFKC_MAY_CHANGE).fill_null(False))).to_series()
    if positions.len() == 0:
        return series
    return series.clone().scatter(positions, series.gather(positions).str.normalize("NFKC"))


def nfkc(col: str | pl.Expr) -> pl.Expr:
    """Unicode NFKC, computed only for the values it can change."""
    expr = pl.col(col) if isinstance(col, str) else col
    return expr.cast(pl.String).map_batches(nfkc_series, return_dtype=pl.String, is_elementwise=True)


def _trimmed(text: pl.Expr) -> pl.Expr:
    # Empty after trimming -> null; replace() compares, cheaper than a second strip for when/then.
    return text.str.strip_chars().replace("", None)


def clean_series(series: pl.Series) -> pl.Series:
    """:func:`clean` on a series."""
    return nfkc_series(series).to_frame("s").select(_trimmed(pl.col("s"))).to_series().alias(series.name)


def clean(col: str | pl.Expr) -> pl.Expr:
    """NFKC (full-width digits, letters, brackets and spaces become ASCII), trimmed; empty -> null."""
    return _trimmed(nfkc(col))


def squeeze(col: str | pl.Expr) -> pl.Expr:
    """:func:`clean` with every whitespace character removed (IDs, codes, phones, enum spellings)."""
    return clean(col).str.replace_all(r"\s+", "")


def flag(out: str, reason: pl.Expr) -> pl.Expr:
    """``"<out>:<reason>"`` when reason is not null."""
    return pl.when(reason.is_not_null()).then(pl.concat_str(pl.lit(f"{out}:"), reason))


#: joins a row's flags while its list is built; never part of a ``"<field>:<reason>"`` text.
_FLAG_SEPARATOR = "\x1f"


def flag_list(flags: list[pl.Expr]) -> pl.Expr:
    """The non-null ``flags`` (String expressions) of each row as a List(String), in order.

    Built as one text and split once: ``concat_list(...).list.drop_nulls()``
    costs about ten times as much, and most rows have no flag at all.
    """
    if not flags:
        return pl.lit([], dtype=pl.List(pl.String))
    joined = pl.concat_str(flags, separator=_FLAG_SEPARATOR, ignore_nulls=True)
    return pl.when(joined.str.len_bytes() > 0).then(joined.str.split(_FLAG_SEPARATOR)) \
        .otherwise(pl.lit([], dtype=pl.List(pl.String)))


def flags_text(flags: pl.Expr) -> pl.Expr:
    """A List(String) of flags as one String for :func:`flag_list` (null when the list is empty)."""
    return pl.when(flags.list.len() > 0).then(flags.list.join(_FLAG_SEPARATOR))


def temp(out: str, name: str) -> str:
    """Name of a temporary column of field ``out``."""
    return f"{out}__{name}"


def merge(*stage_lists: Stages) -> Stages:
    """Stage i of every list applied together (fields are independent, so they run in parallel)."""
    return [{k: v for stage in stages if stage for k, v in stage.items()} for stages in zip_longest(*stage_lists)]


def run(frame: FrameT, stages: Stages, keep_temporaries: bool = False) -> FrameT:
    """Apply stages to a frame; drops the ``__`` temporaries (flags included) unless asked to keep them."""
    for stage in stages:
        frame = frame.with_columns(**stage)
    if keep_temporaries:
        return frame
    names = frame.collect_schema().names() if isinstance(frame, pl.LazyFrame) else frame.columns
    return frame.drop([n for n in names if "__" in n])


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


# Fast paths. A field's normaliser above is the reference: every value goes through every stage.
# Most values arrive already in the form those stages produce (an ID of 18 digits, an ISO date,
# a name of Chinese characters only), and for them most stages change nothing. A fast path does
# only the work left for those values and marks every other row ``atypical``; the reference stages
# then compute the atypical rows, so the result is the reference's, value for value
# (tests/schemas/test_fast_paths.py).

ATYPICAL = "atypical"


@dataclass(frozen=True)
class Fast:
    """A kind's fast path: stages that write the reference's outputs for the usual values (the first
    stage reads the raw column, as the reference's does) and ``<out>__atypical``, true for the rows to
    recompute with the reference stages (once per distinct value when ``distinct``)."""

    stages: Stages
    distinct: bool = False


def series_stages(col: str, out: str, function: Callable[[pl.Series], pl.DataFrame],
                  schema: dict[str, pl.DataType]) -> Stages:
    """Stages running ``function(series) -> frame`` (the ``schema`` columns and ``atypical``) in one Python call."""
    packed = temp(out, "fast")
    fields = schema | {temp(out, ATYPICAL): pl.Boolean()}

    def apply(series: pl.Series) -> pl.Series:
        frame = function(series)
        return frame.rename({ATYPICAL: temp(out, ATYPICAL)}).select(list(fields)).to_struct(series.name)

    return [{packed: pl.col(col).cast(pl.String).map_batches(apply, return_dtype=pl.Struct(fields))},
            {name: pl.col(packed).struct.field(name) for name in fields}]


def reference_outputs(frame: pl.DataFrame, stages: Stages, outputs: list[str]) -> pl.DataFrame:
    """The ``outputs`` of ``stages`` run on ``frame`` (one query)."""
    return collect(run(frame.lazy(), stages, keep_temporaries=True).select(outputs))


#: Stages name every shared intermediate as a column already; searching the plan for common
#: subexpressions cost more than the normalisation of a small file.
_NO_CSE = pl.QueryOptFlags(comm_subexpr_elim=False, comm_subplan_elim=False)


def collect(query: pl.LazyFrame) -> pl.DataFrame:
    """``query`` collected in memory (the Python steps see whole columns, not morsels), without CSE."""
    return query.collect(engine="in-memory", optimizations=_NO_CSE)


def distinct_outputs(series: pl.Series, col: str, stages: Stages, outputs: list[str]) -> pl.DataFrame:
    """The ``outputs`` of the reference ``stages`` (reading ``col``) for ``series``, computed once per distinct value."""
    values = series.unique()
    table = reference_outputs(pl.DataFrame({col: values, "__key": values}), stages, [*outputs, "__key"])
    return series.rename("__key").to_frame().join(
        table, on="__key", how="left", nulls_equal=True, maintain_order="left").select(outputs)


def replaced(series: pl.Series, positions: pl.Series, values: pl.Series) -> pl.Series:
    """A copy of ``series`` with ``values`` at ``positions`` (``Series.scatter`` changes the series it is given)."""
    if positions.len() == 0:
        return series
    if not series.dtype.is_nested():
        return series.clone().scatter(positions, values)
    # Series.scatter does not take lists: gather from the column followed by the new values instead.
    index = np.arange(series.len(), dtype=np.uint32)
    index[positions.to_numpy()] = np.arange(series.len(), series.len() + values.len(), dtype=np.uint32)
    return pl.concat([series, values]).gather(index)


def patch(frame: pl.DataFrame, positions: pl.Series, rows: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the columns of ``rows`` replaced by them at ``positions``."""
    if positions.len() == 0:
        return frame
    return frame.with_columns(replaced(frame[name], positions, rows[name]) for name in rows.columns)


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of valid Gregorian dates (H. Hinnant's ``days_from_civil``), vectorised."""
    year = year - (month <= 2)
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * np.where(month > 2, month - 3, month + 9) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def is_calendar_date(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    in_month = _DAYS_IN_MONTH[np.clip(month, 0, 12)] + (leap & (month == 2))
    return (month >= 1) & (month <= 12) & (day >= 1) & (day <= in_month)


def fixed_width_rows(series: pl.Series, *widths: int) -> tuple[np.ndarray, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """``(blank, {width: (positions, bytes)})``: which rows are null, and for each width the rows exactly
    that many bytes long with their bytes as a ``(rows, width)`` uint8 array (a view of one contiguous
    buffer: no per-row work)."""
    text = pl.col("s")
    shape = series.to_frame("s").select(length=text.str.len_bytes().fill_null(0), blank=text.is_null())
    lengths = shape["length"].to_numpy()
    rows = {}
    for width in widths:
        positions = np.flatnonzero(lengths == width)
        data = np.zeros(0, dtype=np.uint8)
        if len(positions):
            array = series.gather(positions).to_arrow(compat_level=pl.CompatLevel.oldest())
            if isinstance(array, pa.ChunkedArray):
                array = array.combine_chunks()
            start = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset]
            data = np.frombuffer(array.buffers()[2], dtype=np.uint8)[start: start + len(array) * width]
        rows[width] = positions, data.reshape(-1, width)
    return shape["blank"].to_numpy(), rows
