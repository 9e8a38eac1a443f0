"""ENUM, BOOL, GENDER, HOUSE_GRADE and SCHOOL_GRADE: spellings -> canonical value.

The spellings come from ``Column.values``; both sides are compared after NFKC,
whitespace removal and lower-casing, so ``Ｃ``, ``c``, ``C 级`` and ``C级``
meet. School grades have no ``values`` (their spellings are the kind's
definition, generated below).
"""

from __future__ import annotations

import unicodedata
from functools import cache

import polars as pl

from schemas.columns import Column, Kind
from schemas.normalise import ATYPICAL, Fast, Stages, flag, reference_outputs, squeeze, temp

UNKNOWN = "unknown_value"
_CHINESE_DIGITS = "一二三四五六七八九"


def spelling_key(text: str) -> str:
    """The comparison form of one spelling (same as :func:`_key_expr` on a column)."""
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _key_expr(col: str | pl.Expr) -> pl.Expr:
    # Excel returns a typed 1 as 1.0.
    return squeeze(col).str.to_lowercase().str.replace(r"^([0-9]+)\.0+$", "${1}")


@cache
def school_grades() -> dict[str, int]:
    """Every accepted school-grade spelling -> 1..12."""
    grades: dict[str, int] = {}
    for number, digit in enumerate(_CHINESE_DIGITS, start=1):
        grades |= {f"{digit}年级": number, f"{number}年级": number}
    for number, digit in enumerate("一二三", start=1):
        grades |= {f"初{digit}": 6 + number, f"初中{digit}年级": 6 + number, f"初{number}": 6 + number,
                   f"高{digit}": 9 + number, f"高中{digit}年级": 9 + number, f"高{number}": 9 + number}
    grades |= {str(number): number for number in range(1, 13)}
    return {spelling_key(k): v for k, v in grades.items()}


def lookup(column: Column) -> dict[str, str]:
    """spelling key -> canonical value, from ``Column.values`` (canonical values accept themselves)."""
    table: dict[str, str] = {}
    for canonical, spellings in column.values.items():
        for spelling in (canonical, *spellings):
            table.setdefault(spelling_key(spelling), canonical)
    return table


def normalise(col: str, column: Column, out: str | None = None) -> Stages:
    """Stages producing ``out`` (the ``values`` key; BOOL: ``是`` -> True; SCHOOL_GRADE: Int32 1..12) and ``out__flag``."""
    out = out or col
    key, canonical = pl.col(temp(out, "key")), pl.col(temp(out, "canonical"))
    if column.kind == Kind.SCHOOL_GRADE:
        table: dict[str, object] = dict(school_grades())
        dtype: pl.DataType = pl.Int32()
    else:
        table, dtype = dict(lookup(column)), pl.String()
    if column.kind == Kind.BOOL:
        truthy = next(iter(column.values))  # the first key is "yes" (YES_NO = {"是": ..., "否": ...})
        value = pl.when(canonical.is_not_null()).then(canonical == truthy)
    else:
        value = canonical
    return [
        {temp(out, "key"): _key_expr(col)},
        {temp(out, "canonical"): key.replace_strict(list(table), list(table.values()), default=None, return_dtype=dtype)},
        {out: value, temp(out, "flag"): flag(out, pl.when(key.is_not_null() & canonical.is_null()).then(pl.lit(UNKNOWN)))},
    ]


def fast(col: str, column: Column, out: str | None = None) -> Fast:
    """:func:`normalise` for values written exactly as one of the column's listed spellings (nearly all),
    looked up in a table the reference stages made of those spellings. The others (other widths,
    spaces, case, unknown values) are atypical; they repeat, so they are recomputed once per distinct value."""
    out = out or col
    spellings = list(school_grades()) if column.kind == Kind.SCHOOL_GRADE else list(
        dict.fromkeys(s for canonical, written in column.values.items() for s in (canonical, *written)))
    known = reference_outputs(pl.DataFrame({col: spellings}, schema={col: pl.String}), normalise(col, column, out),
                              [out, temp(out, "flag")])
    table = known.select(raw=pl.Series(spellings, dtype=pl.String), value=pl.col(out), flag=pl.col(temp(out, "flag"))) \
        .filter(pl.col("value").is_not_null() & pl.col("flag").is_null())
    found = pl.col(temp(out, "known"))
    return Fast([
        {temp(out, "known"): pl.col(col).replace_strict(table["raw"], table["value"], default=None)},
        {out: found, temp(out, "flag"): pl.lit(None, dtype=pl.String),
         temp(out, ATYPICAL): pl.col(col).is_not_null() & found.is_null()},
    ], distinct=True)
