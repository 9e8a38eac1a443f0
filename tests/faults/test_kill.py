"""A run killed hard (SIGKILL) at any point leaves the previous or the new
warehouse, never a mix; the next run completes and equals a clean run."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from warehouse.build import fingerprints
from warehouse.publish import verify

HEARTH = [sys.executable, "-m", "pipelines.cli"]


def _content(path: Path) -> dict:
    """Fingerprints of every table except ops.* (which records run IDs and times)."""
    return {k: v for k, v in fingerprints(path).items() if not k.startswith("ops.")}


def _run(landing: Path, warehouse: Path, *, wait: bool = True) -> subprocess.Popen:
    env = os.environ | {"HEARTH_DEMO": "1", "HEARTH_QUIET_SECONDS": "0"}
    env.pop("DAGSTER_HOME", None)
    proc = subprocess.Popen([*HEARTH, "run", "--landing", str(landing), "--warehouse", str(warehouse)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    if wait:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    return proc


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> bool:
    """SIGKILL the run's whole process group as soon as ``ready()`` is true; False if it ended first."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.05)
    proc.wait()
    return False


@pytest.fixture(scope="module")
def drop(tmp_path_factory) -> Path:
    import synth

    out = tmp_path_factory.mktemp("faults") / "landing"
    synth.generate(out, households=120, seed=5)
    return out


@pytest.fixture(scope="module")
def clean(drop, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("clean")
    landing = root / "landing"
    shutil.copytree(drop, landing)
    _run(landing, root / "warehouse.duckdb")
    return _content(root / "warehouse.duckdb")


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
def test_killed_run_leaves_old_or_new_and_next_run_completes(phase, drop, clean, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(drop, landing)
    warehouse = tmp_path / "warehouse.duckdb"
    # A first snapshot is published before the run we kill.
    january = tmp_path / "january"
    for path in drop.rglob("*"):
        if path.is_file() and "_truth" not in path.parts and "0705" not in path.name and "7月" not in path.name:
            target = january / path.relative_to(drop)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    _run(january, warehouse)
    previous = _content(warehouse)
    shutil.rmtree(tmp_path / "state")

    killed = _kill_when(_run(landing, warehouse, wait=False), lambda: PHASES[phase](tmp_path))
    assert killed, f"the run finished before reaching {phase}"
    verify(warehouse)  # the published file is a finished, checked warehouse...
    assert _content(warehouse) in (previous, clean)  # ...and it is the old one or the new one

    _run(landing, warehouse)
    assert _content(warehouse) == clean
