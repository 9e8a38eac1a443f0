"""Files ingested side by side give exactly what ingesting them one by one gives.

A generated drop (every department, CSV / XLSX / Parquet, two snapshots) plus
the awkward cases a parallel run could get wrong: the same bytes under two
names (the second must be a ``duplicate``, not a second copy of every row), a
corrected file for the same county and date (the later arrival supersedes),
and a file that cannot be read.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from sources import batch
from sources.registry import StateDir, current_files, load_registry

ARRIVED = datetime(2026, 7, 5, 9, tzinfo=timezone.utc)


def awkward_drop(copy_drop: Path) -> list[tuple[Path, str]]:
    health = copy_drop / "health"
    first = sorted(p for p in health.iterdir() if p.suffix == ".csv")[0]
    shutil.copy2(first, health / f"copy_of_{first.name}")
    original = sorted((copy_drop / "housing").glob("*.csv"))[0]
    corrected = original.with_name(original.stem + "_corrected.csv")
    lines = original.read_bytes().splitlines(keepends=True)
    corrected.write_bytes(b"".join(lines[:-1]))  # the department took its last row back
    (copy_drop / "water" / "529901_20260705.csv").write_bytes(b"\x00\x01\x02 not a table")
    return [(path, department.name) for department in sorted(p for p in copy_drop.iterdir() if p.is_dir()
                                                            and not p.name.startswith("_"))
            for path in sorted(department.iterdir()) if path.is_file()]


def contents(state: StateDir) -> dict[str, pl.DataFrame]:
    """Every file the ingestion wrote, read back (registry sorted: only its row order may differ)."""
    found = {"registry": load_registry(state).sort("file_id", "department", "file_name")}
    for path in sorted(state.root.rglob("*.parquet")):
        if path != state.registry_path:
            found[str(path.relative_to(state.root))] = pl.read_parquet(path)
    return found


def reports_of(landing: Path) -> dict[str, str]:
    return {str(p.relative_to(landing)): p.read_text(encoding="utf-8") for p in sorted(landing.rglob("_reports/*"))}


def test_side_by_side_equals_one_by_one(copy_drop, tmp_path, monkeypatch):
    files = awkward_drop(copy_drop)
    one_by_one = batch.ingest_files(files, StateDir(tmp_path / "serial"), workers=1, arrived=ARRIVED)
    serial_reports = reports_of(copy_drop)
    shutil.rmtree(tmp_path / "serial" / "reports", ignore_errors=True)
    for folder in copy_drop.rglob("_reports"):
        shutil.rmtree(folder)

    went_parallel = []
    real = batch._ingest_in_parallel

    def spy(groups, state, helpers):
        went_parallel.append(helpers)
        return real(groups, state, helpers)

    monkeypatch.setattr(batch, "_ingest_in_parallel", spy)
    batch._helper_pool(1).ready.result()  # started: the helper takes its share of the files
    side_by_side = batch.ingest_files(files, StateDir(tmp_path / "parallel"), workers=2, min_parallel_bytes=0,
                                      arrived=ARRIVED)
    assert went_parallel == [1]

    def essentials(result):
        return (result.file_name, result.department, result.status, result.file_id, result.rows_read,
                result.rows_accepted, result.rows_quarantined, result.blank_rows, result.reason)

    assert [essentials(r) for r in side_by_side] == [essentials(r) for r in one_by_one]
    assert [r.file_name for r in side_by_side] == [path.name for path, _ in files]
    statuses = {(r.department, r.file_name): r.status for r in side_by_side}
    assert statuses["water", "529901_20260705.csv"] == "unreadable"
    copies = [name for department, name in statuses if name.startswith("copy_of_")]
    assert len(copies) == 1
    assert statuses["health", copies[0]] == "duplicate"
    assert statuses["health", copies[0].removeprefix("copy_of_")] == "ingested"

    serial, parallel = contents(StateDir(tmp_path / "serial")), contents(StateDir(tmp_path / "parallel"))
    assert serial.keys() == parallel.keys()
    for name in serial:
        assert serial[name].equals(parallel[name]), name
    assert reports_of(copy_drop) == serial_reports

    view = current_files(parallel["registry"])
    corrected = view.filter(pl.col("department") == "housing", pl.col("file_name").str.contains("_corrected"))
    original = view.filter(pl.col("department") == "housing",
                           pl.col("file_name") == corrected.get_column("file_name")[0].replace("_corrected", ""))
    assert original.get_column("status").to_list() == ["superseded"]  # the later arrival wins
    assert corrected.get_column("status").to_list() != ["superseded"]


def test_small_batches_stay_in_one_process(copy_drop, tmp_path, monkeypatch):
    def refuse(*_):
        pytest.fail("a drop this small must not start helper processes")

    monkeypatch.setattr(batch, "_ingest_in_parallel", refuse)
    files = [(path, "education") for path in sorted((copy_drop / "education").iterdir()) if path.is_file()]
    results = batch.ingest_files(files, StateDir(tmp_path / "state"), workers=2)
    assert {r.status for r in results} == {"ingested"}


def test_equal_sizes_share_a_worker_and_arrive_in_order(tmp_path):
    def item(name, size, position):
        return batch.FileToIngest(tmp_path / name, "health", size, ARRIVED, position)

    groups = batch._groups_by_size([item("a", 10, 0), item("b", 500, 1), item("c", 10, 2), item("d", 30, 3)])
    assert [[f.path.name for f in group] for group in groups] == [["b"], ["d"], ["a", "c"]]


def test_a_helper_that_dies_costs_time_not_files(copy_drop, tmp_path):
    import os
    import signal

    helpers = batch._helper_pool(1)
    helpers.ready.result()  # the helper is up
    for process in list(helpers.pool._processes.values()):
        os.kill(process.pid, signal.SIGKILL)
    files = [(path, "health") for path in sorted((copy_drop / "health").iterdir()) if path.is_file()]
    results = batch.ingest_files(files, StateDir(tmp_path / "state"), workers=2, min_parallel_bytes=0)
    assert [r.file_name for r in results] == [path.name for path, _ in files]
    assert {r.status for r in results} == {"ingested"}
    assert not any(r.already_known for r in results)
    assert batch._helper_pool(1) is not helpers  # a fresh pool next time
