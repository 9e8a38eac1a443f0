"""The content-hash file registry in the state directory (``registry.parquet``).

One row per file version seen, keyed by ``(file_id, department, file_name)``
where ``file_id`` is the first 16 hex chars of the sha256 of the bytes.
Registering the same bytes under the same name again changes nothing, so
re-dropped files and reruns never duplicate work. Writes go to a temporary
file that replaces the registry atomically, under an exclusive lock so that
parallel ingest runs do not lose each other's rows.
"""

from __future__ import annotations

import fcntl
import io
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

REGISTRY_SCHEMA = pl.Schema({
    "file_id": pl.String,
    "department": pl.String,
    "file_name": pl.String,
    "size": pl.Int64,
    "mtime_ns": pl.Int64,
    "first_seen": pl.Datetime("us", "UTC"),
    "county_from_name": pl.String,
    "extract_date": pl.Date,
    "counties": pl.List(pl.String),
    "status": pl.String,
    "rows_read": pl.Int64,
    "rows_accepted": pl.Int64,
    "rows_quarantined": pl.Int64,
    "blank_rows": pl.Int64,
    "reason": pl.String,
})
STATUSES = ("ingested", "unreadable", "duplicate")
VIEW_STATUSES = ("current", "history", "superseded")
_KEY = ["file_id", "department", "file_name"]


@dataclass(frozen=True)
class StateDir:
    """``data/state/`` by default; every path ingestion writes lives under it."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def registry_path(self) -> Path:
        return self.root / "registry.parquet"

    def accepted_path(self, department: str, file_id: str) -> Path:
        return self.root / "accepted" / department / f"{file_id}.parquet"

    def quarantine_path(self, department: str, file_id: str) -> Path:
        return self.root / "quarantine" / department / f"{file_id}.parquet"

    def lock(self):
        """Exclusive lock for read-modify-write of the registry (across processes)."""
        return exclusive_lock(self.root / ".registry.lock")


@contextmanager
def exclusive_lock(lock_file: Path) -> Iterator[None]:
    """An advisory lock held across processes for the ``with`` block (released if the process dies)."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def file_id_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def empty_registry() -> pl.DataFrame:
    return pl.DataFrame(schema=REGISTRY_SCHEMA)


def load_registry(state: StateDir) -> pl.DataFrame:
    try:
        # One open, one read: another process may os.replace the registry at any
        # moment, and a reader that opens the path twice (footer, then pages)
        # could pair the old footer with the new pages.
        data = state.registry_path.read_bytes()
    except FileNotFoundError:
        return empty_registry()
    return pl.read_parquet(io.BytesIO(data)).select(
        pl.col(name).cast(dtype) for name, dtype in REGISTRY_SCHEMA.items())


def lookup(registry: pl.DataFrame, file_id: str, department: str, file_name: str | None = None) -> dict | None:
    """The recorded row for these bytes in this department (and name, when given)."""
    match = registry.filter((pl.col("file_id") == file_id) & (pl.col("department") == department))
    if file_name is not None:
        match = match.filter(pl.col("file_name") == file_name)
    if match.height == 0:
        return None
    return match.sort("first_seen").row(0, named=True)


def register(state: StateDir, entry: dict[str, Any]) -> dict:
    """Insert ``entry`` unless the same (file_id, department, file_name) is known.

    Returns the row as recorded: the existing one when already registered
    (idempotent), else the new one. Missing fields default to null.
    """
    row = {name: entry.get(name) for name in REGISTRY_SCHEMA}
    row["first_seen"] = _utc(row["first_seen"] or datetime.now(timezone.utc))
    row["counties"] = list(row["counties"] or [])
    if row["status"] not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, not {row['status']!r}")
    with state.lock():
        registry = load_registry(state)
        existing = lookup(registry, row["file_id"], row["department"], row["file_name"])
        if existing is not None:
            return existing
        registry = pl.concat([registry, pl.DataFrame([row], schema=REGISTRY_SCHEMA)])
        write_parquet_atomic(registry, state.registry_path)
    return row


def current_files(registry: pl.DataFrame) -> pl.DataFrame:
    """Per (department, county): which ingested file is current, history or superseded.

    The file of the latest extract date is *current*; among files of the same
    department, county and date the one that arrived last supersedes the
    others; the last arrival of an older date is *history*. A file covering
    several counties appears once per county. Files with no county at all
    (none in the name, no village codes) form the county ``""``.
    """
    files = registry.filter(pl.col("status") == "ingested").with_columns(
        pl.when(pl.col("counties").list.len() > 0).then(pl.col("counties"))
        .otherwise(pl.concat_list(pl.col("county_from_name").fill_null(""))).alias("county")
    ).explode("county")
    group = ["department", "county"]
    ranked = files.sort(["extract_date", "first_seen", "file_id"], descending=True).with_columns(
        pl.col("extract_date").max().over(group).alias("_latest"),
        (pl.int_range(pl.len()).over([*group, "extract_date"]) == 0).alias("_last_arrival"),
    )
    view = ranked.with_columns(
        pl.when(~pl.col("_last_arrival")).then(pl.lit("superseded"))
        .when(pl.col("extract_date") == pl.col("_latest")).then(pl.lit("current"))
        .otherwise(pl.lit("history")).alias("status")
    )
    return view.select(
        "department", "county", "file_id", "file_name", "extract_date", "first_seen", "status",
        "rows_accepted", "rows_quarantined",
    ).sort(["department", "county", "extract_date", "first_seen"])


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write next to ``path`` then ``os.replace``: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        # Ingestion writes every row once and the next steps read it once, so the CPU is what counts:
        # pyarrow takes polars' string views as they are (polars' own writer converts them), no
        # compression (about a third of the writer's CPU, for files about twice as large), a dictionary
        # only for the columns that repeat (statuses, enumerations, the file's own columns), no
        # statistics (nothing reads these files by row group).
        if frame.height < _SMALL:
            frame.write_parquet(temporary, compression="uncompressed", statistics=False)  # less set-up than pyarrow
        else:
            pq.write_table(frame.to_arrow(compat_level=pl.CompatLevel.newest()), temporary, compression="none",
                           use_dictionary=_repetitive_columns(frame), write_statistics=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


#: frames smaller than this (the registry, most quarantine files) go through polars' writer.
_SMALL = 4096
#: rows sampled, and the most distinct values among them, for a column to be dictionary-encoded.
_DICTIONARY_SAMPLE, _DICTIONARY_MAX = 1024, 64


def _repetitive_columns(frame: pl.DataFrame) -> list[str]:
    distinct = frame.head(_DICTIONARY_SAMPLE).select(pl.col(pl.String).n_unique())
    return [name for name, count in distinct.row(0, named=True).items() if count <= _DICTIONARY_MAX] if distinct.width else []


def write_text_atomic(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # A short prefix: the temporary name must fit NAME_MAX even when ``path``'s name nearly fills it.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:40]}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _utc(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is the host's local time
    return moment.astimezone(timezone.utc)
