"""Shared drop and clean-run fingerprints for the fault tests."""

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from faults_support import content, run  # noqa: E402


@pytest.fixture(scope="session")
def drop(tmp_path_factory) -> Path:
    import synth

    out = tmp_path_factory.mktemp("faults") / "landing"
    synth.generate(out, households=120, seed=5)
    return out


@pytest.fixture(scope="session")
def clean(drop, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("clean")
    landing = root / "landing"
    shutil.copytree(drop, landing)
    run(landing, root / "warehouse.duckdb")
    return content(root / "warehouse.duckdb")


@pytest.fixture(scope="session")
def january(drop, tmp_path_factory) -> tuple[Path, dict]:
    """A warehouse published from the first snapshot only: the 'previous' one a fault must not damage."""
    root = tmp_path_factory.mktemp("january")
    landing = root / "landing"
    for path in drop.rglob("*"):
        if path.is_file() and "_truth" not in path.parts and "0705" not in path.name and "7月" not in path.name:
            target = landing / path.relative_to(drop)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    run(landing, root / "warehouse.duckdb")
    return root / "warehouse.duckdb", content(root / "warehouse.duckdb")
