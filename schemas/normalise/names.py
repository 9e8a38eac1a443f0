"""Chinese personal names: normalised text and toneless pinyin.

Traditional->simplified (opencc) and pinyin (pypinyin) are per-value Python
libraries, so both run on the distinct names only (:func:`map_distinct`).
The surname readings live in ``reference/surname_pinyin.csv``: the default
reading of several surname characters is wrong (曾 ceng, 单 dan, 仇 chou).
"""

from __future__ import annotations

import csv
from functools import cache, lru_cache
from pathlib import Path

import opencc
import polars as pl
from pypinyin import Style, lazy_pinyin

from schemas.normalise import Stages, clean, map_distinct, temp

SURNAME_TABLE = Path(__file__).resolve().parent.parent / "reference" / "surname_pinyin.csv"
SEPARATOR = "·"
# Minority-name separators seen in the wild; NFKC has already folded full-width
# and half-width forms (．, ･) into these.
_SEPARATORS = r"[.•・·‧∙⋅]+"


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def surname_readings() -> dict[str, str]:
    """surname (one or two characters) -> toneless pinyin, syllables space-separated."""
    with SURNAME_TABLE.open(encoding="utf-8") as handle:
        return {row["surname"]: row["pinyin"] for row in csv.DictReader(handle)}


@lru_cache(maxsize=1 << 18)
def to_simplified(text: str) -> str:
    return _converter().convert(text)


def _syllables(text: str) -> list[str]:
    tokens = lazy_pinyin(text, style=Style.NORMAL)  # lazy_pinyin never returns heteronyms
    # Separators and punctuation come back as their own tokens; Latin letters stay one token.
    return [token.lower() for token in tokens if token.isalnum()]


@lru_cache(maxsize=1 << 18)
def name_pinyin(name: str) -> str:
    """Toneless pinyin of a normalised name; the first character(s) read as a surname."""
    readings = surname_readings()
    for length in (2, 1):
        surname = name[:length]
        if len(surname) == length and surname in readings:
            return " ".join([readings[surname], *_syllables(name[length:])])
    return " ".join(_syllables(name))


def _tidy(col: str | pl.Expr) -> pl.Expr:
    text = clean(col).str.replace_all(r"\s+", "").str.replace_all(_SEPARATORS, SEPARATOR)
    text = text.str.strip_chars(SEPARATOR)
    return pl.when(text.str.len_bytes() > 0).then(text)


def is_blank(col: str | pl.Expr) -> pl.Expr:
    """True when nothing but spaces and separators is left (no name at all)."""
    return _tidy(col).is_null()


def normalise(col: str, out: str | None = None) -> Stages:
    """``out``: NFKC, no spaces (ideographic ones included), simplified, separators unified to ``·``;
    ``out_pinyin``: toneless pinyin, the first character(s) read as a surname."""
    out = out or col
    return [
        {temp(out, "tidy"): _tidy(col)},
        {out: map_distinct(pl.col(temp(out, "tidy")), to_simplified)},
        {f"{out}_pinyin": map_distinct(pl.col(out), name_pinyin)},
    ]
