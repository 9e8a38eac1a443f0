"""Fixtures shared by the sources tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    root = tmp_path / "landing"
    for department in ("education", "health", "housing", "water", "civil_affairs"):
        (root / department).mkdir(parents=True)
    return root
