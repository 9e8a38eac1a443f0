"""Fixtures of the warehouse tests: real DuckDB files under tmp_path."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from wh_factory import World  # noqa: E402
from warehouse.build import RunInfo, build_warehouse  # noqa: E402
from warehouse.privacy import PseudonymKey  # noqa: E402

TEST_KEY = PseudonymKey(b"test-key-0123456789")


@pytest.fixture
def build(tmp_path: Path):
    """build(world_or_inputs, name="wh", **kwargs) -> (BuildResult, read-only connection)."""
    opened: list[duckdb.DuckDBPyConnection] = []

    def _build(world, name: str = "wh", **kwargs):
        inputs = world.inputs() if isinstance(world, World) else world
        kwargs.setdefault("key", TEST_KEY)
        result = build_warehouse(inputs, tmp_path / f"{name}.duckdb", RunInfo(kwargs.pop("run_id", "run-1")), **kwargs)
        conn = duckdb.connect(str(result.path), read_only=True)
        opened.append(conn)
        return result, conn

    yield _build
    for conn in opened:
        conn.close()
