"""A run killed hard (SIGKILL) at any point leaves the previous or the new
warehouse, never a mix; the next run completes and equals a clean run."""

import shutil

import pytest

from faults_support import content, kill_when, run
from warehouse.publish import verify

PHASES = {
    "ingestion": lambda root: any((root / "state" / "accepted").glob("*/*.parquet")),
    # every department ingested: the run is in its checks or linkage
    "linkage": lambda root: all(any((root / "state" / "accepted" / d).glob("*.parquet"))
                                for d in ("civil_affairs", "education", "health", "housing", "water")),
    # the staging build has finished (no write-ahead log): checks and publishing are under way
    "publishing": lambda root: any(p for p in root.glob(".warehouse.*.staging.duckdb")
                                   if not p.with_name(p.name + ".wal").exists()),
}


@pytest.mark.parametrize("phase", list(PHASES))
def test_killed_run_leaves_old_or_new_and_next_run_completes(phase, drop, clean, january, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(drop, landing)
    warehouse = tmp_path / "warehouse.duckdb"
    # A first snapshot was published before the run we kill.
    published_before, previous = january
    shutil.copy2(published_before, warehouse)

    killed = kill_when(run(landing, warehouse, wait=False), lambda: PHASES[phase](tmp_path))
    assert killed, f"the run finished before reaching {phase}"
    verify(warehouse)  # the published file is a finished, checked warehouse...
    assert content(warehouse) in (previous, clean)  # ...and it is the old one or the new one

    run(landing, warehouse)
    assert content(warehouse) == clean
