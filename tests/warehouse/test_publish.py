"""Atomic publish with an analyst holding the old warehouse open in another process."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from datetime import date

import duckdb
import pytest

from wh_factory import World
from warehouse.publish import NotPublishable, publish, staging_path

ANALYST = textwrap.dedent("""
    import sys, duckdb
    conn = duckdb.connect(sys.argv[1], read_only=True)
    print(conn.sql("SELECT run_id FROM ops.run").fetchall()[0][0], flush=True)
    sys.stdin.readline()   # hold the file open while the next build is published
    print(conn.sql("SELECT run_id FROM ops.run").fetchall()[0][0], flush=True)
    print(conn.sql("SELECT count(*) FROM analyst.household").fetchall()[0][0], flush=True)
""")


def world(n: int) -> World:
    w = World()
    for i in range(n):
        w.add("water", date(2024, 6, 30), f"W{i}", f"P{i}", f"H{i}", quality_ok=bool(i % 2))
    return w


def test_publish_while_an_analyst_has_the_old_file_open(build, tmp_path):
    target = tmp_path / "data" / "warehouse.duckdb"
    first, conn = build(world(2), name="first", run_id="run-1")
    conn.close()
    publish(first.path, target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(target)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert analyst.stdout.readline().strip() == "run-1"
        # the next build writes its own file and publishes over the open one: nothing blocks
        second, conn = build(world(3), name="second", run_id="run-2")
        conn.close()
        publish(second.path, target)
        new = duckdb.connect(str(target), read_only=True)
        assert new.sql("SELECT run_id FROM ops.run").fetchall() == [("run-2",)]
        assert new.sql("SELECT count(*) FROM analyst.household").fetchall() == [(3,)]
        new.close()
        # the analyst still reads the complete old warehouse
        out, _ = analyst.communicate("\n", timeout=60)
        assert out.split() == ["run-1", "2"]
    finally:
        analyst.kill()
    assert analyst.returncode == 0
    assert not first.path.exists() and not second.path.exists()  # staging removed
    assert sorted(p.name for p in target.parent.iterdir()) == ["warehouse.duckdb"]  # no temp files left


def test_failed_checks_or_unfinished_files_are_not_published(build, tmp_path):
    result, conn = build(world(1), name="bad")
    conn.close()
    rw = duckdb.connect(str(result.path))
    rw.execute("UPDATE ops.check SET passed = false WHERE check_name = 'privacy scan of analyst views'")
    rw.close()
    target = tmp_path / "warehouse.duckdb"
    with pytest.raises(NotPublishable, match="privacy scan"):
        publish(result.path, target)
    assert not target.exists()
    with pytest.raises(NotPublishable, match="does not exist"):
        publish(tmp_path / "missing.duckdb", target)
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(NotPublishable, match="not a Hearth warehouse"):
        publish(other, target)


def test_staging_path_is_next_to_the_target(tmp_path):
    path = staging_path(tmp_path / "warehouse.duckdb", "run/1 2")
    assert path.parent == tmp_path and path.name.startswith(".") and "/" not in path.name[1:]
