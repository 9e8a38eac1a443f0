"""Atomic publishing of a finished, checked warehouse file to a stable path.

Analysts open ``data/warehouse.duckdb`` read-only. A build never touches that
file: it writes a staging file, and publishing copies the staging file to a
temporary name in the target's directory, fsyncs it and ``os.replace``s it over
the target. On POSIX the rename is atomic: a new connection sees either the old
or the new warehouse, never half of one, and an analyst who still has the old
file open keeps reading the old inode undisturbed (and blocks nothing).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb

DEFAULT_TARGET = Path("data/warehouse.duckdb")
FILE_MODE = 0o640


class NotPublishable(RuntimeError):
    """The staging file is not a finished, checked warehouse."""


def verify(staging: Path) -> str:
    """Open the staging file read-only and confirm it finished with all checks passed; return its run ID."""
    if not staging.exists():
        raise NotPublishable(f"{staging} does not exist")
    if staging.with_name(staging.name + ".wal").exists():
        raise NotPublishable(f"{staging} has a write-ahead log: the build did not finish (still open or crashed)")
    try:
        conn = duckdb.connect(str(staging), read_only=True)
    except duckdb.Error as exc:
        raise NotPublishable(f"{staging} cannot be opened read-only: {exc}") from exc
    try:
        runs = conn.sql("SELECT run_id FROM ops.run WHERE built_this_file").fetchall()
        failed = conn.sql("SELECT check_name, detail FROM ops.check WHERE NOT passed").fetchall()
        n_checks = conn.sql("SELECT count(*) FROM ops.check").fetchall()[0][0]
    except duckdb.Error as exc:
        raise NotPublishable(f"{staging} is not a Hearth warehouse: {exc}") from exc
    finally:
        conn.close()
    if len(runs) != 1 or not n_checks:
        raise NotPublishable(f"{staging}: expected one finished run with checks, found {len(runs)} runs")
    if failed:
        raise NotPublishable(f"{staging}: checks failed: " + "; ".join(f"{n} ({d})" for n, d in failed))
    return runs[0][0]


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(staging: Path | str, target: Path | str = DEFAULT_TARGET, *, keep_staging: bool = False) -> Path:
    """Verify ``staging`` and atomically make it the warehouse at ``target``; return ``target``."""
    staging, target = Path(staging), Path(target)
    verify(staging)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".publishing", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, staging.open("rb") as src:
            shutil.copyfileobj(src, out, length=16 * 1024 * 1024)
            out.flush()
            os.fchmod(out.fileno(), FILE_MODE)
            os.fsync(out.fileno())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if not keep_staging:
        staging.unlink(missing_ok=True)
    return target


def staging_path(target: Path | str = DEFAULT_TARGET, run_id: str = "build") -> Path:
    """A staging path next to the target (same filesystem), never opened by analysts."""
    target = Path(target)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in run_id)
    return target.with_name(f".{target.stem}.{safe}.staging.duckdb")
