"""Normalised department frames from the state directory (``sources`` output).

Every ingested file that is current or history for some county is read once;
superseded files (an earlier drop of the same date) are left out.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from sources.registry import StateDir, current_files, load_registry


def load_frames(state_dir: str | Path, up_to: dt.date | None = None) -> dict[str, pl.DataFrame]:
    """``{department: accepted rows of its current and history files}``; ``up_to`` drops later extracts."""
    state = StateDir(Path(state_dir))
    view = current_files(load_registry(state)).filter(pl.col("status") != "superseded")
    if up_to is not None:
        view = view.filter(pl.col("extract_date") <= up_to)
    files = view.select("department", "file_id").unique().sort("department", "file_id")
    frames: dict[str, list[pl.DataFrame]] = {}
    for department, file_id in files.iter_rows():
        path = state.accepted_path(department, file_id)
        if path.exists():
            frames.setdefault(department, []).append(pl.read_parquet(path))
    return {d: pl.concat(parts, how="diagonal_relaxed") for d, parts in frames.items()}
