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
