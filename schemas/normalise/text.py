"""TEXT and ADDRESS columns: NFKC, trimmed, empty -> null."""

from __future__ import annotations

import polars as pl

from schemas.normalise import ATYPICAL, Fast, Stages, clean, temp


def normalise(col: str, out: str | None = None) -> Stages:
    return [{out or col: clean(col)}]


def fast(col: str, out: str | None = None) -> Fast:
    """:func:`normalise` itself (NFKC is only computed where it can change something): nothing is atypical."""
    out = out or col
    return Fast([{out: clean(col), temp(out, ATYPICAL): pl.lit(False)}])
