"""Chinese personal names: normalised text and toneless pinyin.

Traditional->simplified (opencc) and pinyin (pypinyin) are slow per-value
Python libraries, so both run once per distinct *character* and the names
are rebuilt with vectorised list/replace operations.
The surname readings live in ``reference/surname_pinyin.csv``: the default
reading of several surname characters is wrong (曾 ceng, 单 dan, 仇 chou).
"""

from __future__ import annotations

import csv
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import opencc
import polars as pl
from pypinyin import Style, lazy_pinyin

from schemas.normalise import (
    ATYPICAL, Fast, Stages, clean, clean_series, nfkc, nfkc_series, replaced, series_stages, temp,
)

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


@lru_cache(maxsize=1 << 16)
def to_simplified(text: str) -> str:
    return _converter().convert(text)


def _syllables(text: str) -> list[str]:
    tokens = lazy_pinyin(text, style=Style.NORMAL)  # lazy_pinyin never returns heteronyms
    # Separators and punctuation come back as their own tokens; Latin letters stay one token.
    return [token.lower() for token in tokens if token.isalnum()]


@lru_cache(maxsize=1 << 16)
def char_pinyin(char: str) -> str | None:
    """Toneless reading of one character; None for separators and punctuation."""
    syllables = _syllables(char)
    return syllables[0] if syllables else None


def name_pinyin(name: str) -> str:
    """Toneless pinyin of a normalised name; the first character(s) read as a surname.

    The reference (pure Python) form of :func:`pinyin_series`: characters
    are read one at a time, so the same character always gets the same
    syllable whatever its neighbours (what homophone matching wants).
    """
    readings = surname_readings()
    surname = next((name[:n] for n in (2, 1) if len(name) >= n and name[:n] in readings), "")
    rest = name[len(surname):]
    if any(c.isascii() and c.isalnum() for c in rest):
        syllables = _syllables(rest)
    else:
        syllables = [p for c in rest if (p := char_pinyin(c))]
    return " ".join(([readings[surname]] if surname else []) + syllables)


def _distinct_chars(series: pl.Series) -> list[str]:
    return series.str.split("").explode().drop_nulls().unique().to_list()


def simplify_series(series: pl.Series) -> pl.Series:
    """Traditional -> simplified, converted per distinct *character* (opencc is slow per string)."""
    table = {c: t for c in _distinct_chars(series) if (t := to_simplified(c)) != c}
    return series.str.replace_many(table) if table else series


def pinyin_series(series: pl.Series) -> pl.Series:
    """Vectorised :func:`name_pinyin`: pypinyin runs once per distinct character, not per name."""
    readings = surname_readings()
    frame = pl.DataFrame({"name": series}).with_columns(
        two=pl.col("name").str.slice(0, 2).is_in([k for k in readings if len(k) == 2]),
        one=pl.col("name").str.slice(0, 1).is_in([k for k in readings if len(k) == 1]),
    ).with_columns(
        surname=pl.when("two").then(pl.col("name").str.slice(0, 2)).when("one").then(pl.col("name").str.slice(0, 1)),
    ).with_columns(rest=pl.col("name").str.slice(pl.col("surname").str.len_chars().fill_null(0)))
    # One multi-pattern pass: every character becomes " <syllable>", separators and punctuation nothing.
    # (An empty pattern would match everywhere: only real characters are listed.)
    chars = [c for c in _distinct_chars(frame["rest"]) if c]
    spelled = [f" {p}" if (p := char_pinyin(c)) else "" for c in chars]
    rest = pl.col("rest")
    if chars:
        rest = rest.str.replace_many(chars, spelled)
    syllables = rest.str.strip_chars_start(" ")
    joined = pl.concat_str(
        pl.col("surname").replace_strict(readings, default=None, return_dtype=pl.String),
        pl.when(syllables.str.len_bytes() > 0).then(syllables),
        separator=" ", ignore_nulls=True,
    )
    result = frame.select(pl.when(pl.col("name").is_not_null()).then(joined)).to_series()
    # Latin letters must stay words ("wang", not "w a n g"): the rare such names go one by one.
    latin = series.str.contains("[A-Za-z0-9]").fill_null(False)
    if latin.any():
        distinct = series.filter(latin).unique()
        spelled = series.replace_strict(distinct, [name_pinyin(n) for n in distinct.to_list()], default=None)
        result = pl.select(pl.when(pl.lit(latin)).then(pl.lit(spelled)).otherwise(pl.lit(result))).to_series()
    return result.alias(series.name)


def _tidy(col: str | pl.Expr) -> pl.Expr:
    text = clean(col).str.replace_all(r"\s+", "").str.replace_all(_SEPARATORS, SEPARATOR)
    # NFKC again: it turns "´" into a space and a combining accent; without the space the accent
    # composes with the letter before it ("A´" -> "Á"), so the name would change on a second pass.
    text = nfkc(text).str.strip_chars(SEPARATOR)
    return pl.when(text.str.len_bytes() > 0).then(text)


def _tidy_series(series: pl.Series) -> pl.Series:
    """:func:`_tidy` on a series, each step once (the expression evaluates its text twice)."""
    text = clean_series(series).str.replace_all(r"\s+", "").str.replace_all(_SEPARATORS, SEPARATOR)
    text = nfkc_series(text).str.strip_chars(SEPARATOR)
    return text.to_frame().select(pl.when(pl.first().str.len_bytes() > 0).then(pl.first())).to_series()


def is_blank(col: str | pl.Expr) -> pl.Expr:
    """True when nothing but spaces and separators is left (no name at all)."""
    # Raw text, no NFKC: the full-width and half-width separator forms are listed instead.
    text = pl.col(col) if isinstance(col, str) else col
    return ~text.str.contains(r"[^\s.•・·‧∙⋅．･]").fill_null(False)


def normalise(col: str, out: str | None = None) -> Stages:
    """``out``: NFKC, no spaces (ideographic ones included), simplified, separators unified to ``·``;
    ``out_pinyin``: toneless pinyin, the first character(s) read as a surname."""
    out = out or col
    return [
        {temp(out, "tidy"): _tidy(col)},
        {out: pl.col(temp(out, "tidy")).map_batches(simplify_series, return_dtype=pl.String, is_elementwise=True)},
        {f"{out}_pinyin": pl.col(out).map_batches(pinyin_series, return_dtype=pl.String, is_elementwise=True)},
    ]


#: a name of Chinese characters (CJK unified ideographs, basic block) only: NFKC, trimming, space and
#: separator removal all leave it as it is, so only simplification and pinyin have anything to do.
_TYPICAL = r"^[\x{4E00}-\x{9FFF}]+$"
#: a tidied name of Chinese characters, with the minority-name separator between them.
_TIDY_TYPICAL = r"^[\x{4E00}-\x{9FFF}]+(?:·[\x{4E00}-\x{9FFF}]+)*$"
_START = "\x01"  # marks the start of a name for the surname patterns; never part of a typical name


def _chars_of_typical(names: pl.Series) -> set[str]:
    """The distinct characters of names made of CJK basic-block characters only (3 UTF-8 bytes each)."""
    joined = names.str.join("").item()
    if not joined:
        return set()
    utf8 = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8).reshape(-1, 3).astype(np.uint32)
    points = ((utf8[:, 0] & 0x0F) << 12) | ((utf8[:, 1] & 0x3F) << 6) | (utf8[:, 2] & 0x3F)
    return {chr(point) for point in np.flatnonzero(np.bincount(points, minlength=0xA000))}


def _pinyin_of_typical(names: pl.Series, chars: set[str]) -> pl.Series:
    """:func:`pinyin_series` of names of CJK characters and separators only (no Latin letters), in one pass.

    The surname is the start marker plus one or two characters: listed first, two-character surnames
    first, so the leftmost-first match prefers them exactly as :func:`pinyin_series` does.
    """
    readings = surname_readings()
    surnames = sorted(readings, key=len, reverse=True)
    ordered = sorted(chars)
    patterns = [_START + s for s in surnames] + ordered
    spelled = [f" {readings[s]}" for s in surnames] + [f" {p}" if (p := char_pinyin(c)) else "" for c in ordered]
    return names.to_frame("s").select(pl.concat_str(pl.lit(_START), pl.col("s"))
                                      .str.replace_many(patterns, spelled, leftmost=True)
                                      .str.strip_chars_start(_START + " ")).to_series()


def _fast(series: pl.Series, out: str) -> pl.DataFrame:
    """``out``, ``out_pinyin`` and ``atypical`` (see :func:`fast`)."""
    name = pl.col("s")
    masks = series.to_frame("s").select(typical=name.str.contains(_TYPICAL).fill_null(False), blank=name.is_null())
    chinese, blank = masks["typical"].to_numpy(), masks["blank"].to_numpy()
    chars = _chars_of_typical(series.filter(masks["typical"]))
    typical = chinese.copy()
    untidy = np.flatnonzero(~chinese & ~blank)
    if len(untidy):  # most untidy names are tidy Chinese once their spaces are gone ("王 芳", "米热 · 托合提")
        tidied = _tidy_series(series.gather(untidy))
        ok = tidied.to_frame("s").select(name.str.contains(_TIDY_TYPICAL) | name.is_null()).to_series()
        series = replaced(series, pl.Series(untidy, dtype=pl.UInt32), tidied)
        typical[untidy] = ok.to_numpy()
        chars |= set(tidied.filter(ok).str.join("").item() or "")
    traditional = {c: s for c in chars if (s := to_simplified(c)) != c}
    if traditional:
        positions = series.to_frame("s").select(
            pl.arg_where(name.str.contains_any(list(traditional)).fill_null(False))).to_series()
        series = replaced(series, positions, series.gather(positions).str.replace_many(traditional))
        chars = chars - set(traditional) | {c for s in traditional.values() for c in s}
    return pl.DataFrame({out: series, f"{out}_pinyin": _pinyin_of_typical(series, chars),
                         ATYPICAL: ~typical & ~blank})


def fast(col: str, out: str | None = None) -> Fast:
    """:func:`normalise` for names of Chinese characters only (nearly all, and most others once their spaces
    are gone): tidying leaves them as they are, so they are simplified and spelled in one pass each. The
    rest (separators, Latin letters, other scripts) are atypical."""
    out = out or col
    return Fast(series_stages(col, out, lambda series: _fast(series, out),
                              {out: pl.String(), f"{out}_pinyin": pl.String()}))
