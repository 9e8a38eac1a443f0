"""Fixtures shared across the suite: a small generated drop, made once per session."""

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def synth_drop(tmp_path_factory) -> Path:
    """A generated landing folder (300 households, two snapshots) with ``_truth/``.

    Tests that write into a landing folder must copy it (``copy_drop``)."""
    import synth

    out = tmp_path_factory.mktemp("synth") / "landing"
    synth.generate(out, households=300, seed=11)
    return out


@pytest.fixture
def copy_drop(synth_drop, tmp_path) -> Path:
    target = tmp_path / "landing"
    shutil.copytree(synth_drop, target, copy_function=shutil.copy2)
    return target
