"""ops.run keeps the history of published builds: each build carries the previous warehouse's runs."""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from wh_factory import World
from warehouse.build import RunInfo, build_warehouse
from warehouse.publish import publish, staging_path

from conftest import TEST_KEY


def small_world() -> World:
    w = World()
    w.add("water", date(2024, 1, 31), "W1", "P1", "H1", quality_ok=False)
    return w


def runs(path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.sql("SELECT run_id, built_this_file, json_extract(counts, '$.\"core.water_survey\"')::INT "
                        "FROM analyst.run ORDER BY started_at").fetchall()


def test_each_build_carries_the_published_run_history(tmp_path):
    target = tmp_path / "warehouse.duckdb"
    for i, run_id in enumerate(("run-1", "run-2", "run-3")):
        result = build_warehouse(small_world().inputs(), staging_path(target, run_id),
                                 RunInfo(run_id, datetime(2024, 9, 1 + i), "test"), key=TEST_KEY, previous=target)
        assert result.ok, result.failed()
        publish(result.path, target)
    assert runs(target) == [("run-1", False, 1), ("run-2", False, 1), ("run-3", True, 1)]


def test_no_previous_file_and_a_rerun_under_the_same_id(tmp_path):
    target = tmp_path / "warehouse.duckdb"
    first = build_warehouse(small_world().inputs(), staging_path(target), RunInfo("run-1", datetime(2024, 9, 1)),
                            key=TEST_KEY, previous=tmp_path / "absent.duckdb")
    publish(first.path, target)
    assert runs(target) == [("run-1", True, 1)]
    again = build_warehouse(small_world().inputs(), staging_path(target), RunInfo("run-1", datetime(2024, 9, 2)),
                            key=TEST_KEY, previous=target)
    publish(again.path, target)
    assert runs(target) == [("run-1", True, 1)]
