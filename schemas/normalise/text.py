"""TEXT and ADDRESS columns: NFKC, trimmed, empty -> null."""

from __future__ import annotations

import polars as pl

from schemas.normalise import Stages, clean_series, clean


def normalise(col: str, out: str | None = None) -> Stages:
    return [{out or col: clean(col)}]


def normalise_series(series: pl.Series, out: str) -> pl.DataFrame:
    """:func:`normalise` on a series (one Python call: NFKC only where it can change something)."""
    return clean_series(series).alias(out).to_frame()
