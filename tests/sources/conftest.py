"""Fixtures shared by the sources tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the file builders beside these tests (extract_builders.py), whatever pytest's import mode
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    for department in ("education", "health", "housing", "water", "civil_affairs"):
        (root / department).mkdir(parents=True)
    return root
