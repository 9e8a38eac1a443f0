"""Fixtures of the fuzz suite; the profile and helpers live in ``fuzz_support`` (importable by the tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# fuzz_support beside these tests, whatever pytest's import mode
sys.path.insert(0, str(Path(__file__).parent))

from fuzz_support import bait  # noqa: E402  (registers the hypothesis profile)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """tmp_path with bait outside the landing folder: ``x/`` (for ``rm -rf x``) and a secret table."""
    return bait(tmp_path)
