"""Concurrent use: two runs at once, a file dropped mid-run, an analyst holding
the published warehouse open. No corruption, no lost file, no deadlock."""

import shutil
import subprocess
import sys
import time

import duckdb

from faults_support import content, finish, run
from sources.registry import StateDir, load_registry


def test_two_runs_at_once_both_finish_and_agree_with_a_clean_run(drop, clean, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(drop, landing)
    warehouse = tmp_path / "warehouse.duckdb"
    first, second = run(landing, warehouse, wait=False), run(landing, warehouse, wait=False)
    finish(first)
    finish(second)
    assert content(warehouse) == clean
    registry = load_registry(StateDir(tmp_path / "state"))
    assert registry.select("department", "file_name").is_duplicated().sum() == 0


def test_a_file_dropped_during_a_run_is_not_lost(drop, clean, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(drop, landing)
    late = sorted((landing / "water").glob("*"))[-1]
    held_back = tmp_path / late.name
    late.rename(held_back)
    warehouse = tmp_path / "warehouse.duckdb"
    proc = run(landing, warehouse, wait=False)
    while not any((tmp_path / "state" / "accepted").glob("*/*.parquet")) and proc.poll() is None:
        time.sleep(0.05)
    shutil.copy2(held_back, late)  # arrives while the run is under way
    finish(proc)
    run(landing, warehouse)  # the next run (or this one) picks it up
    assert content(warehouse) == clean
    registry = load_registry(StateDir(tmp_path / "state"))
    assert late.name in registry.get_column("file_name").to_list()


ANALYST = """
import sys, time, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)
before = conn.sql("select count(*) from core.person").fetchall()[0][0]
print("open", flush=True)
sys.stdin.readline()  # hold the file open until told to stop
after = conn.sql("select count(*) from core.person").fetchall()[0][0]
print(before == after, flush=True)
"""


def test_an_analyst_holding_the_warehouse_open_blocks_nothing(drop, clean, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(drop, landing)
    warehouse = tmp_path / "warehouse.duckdb"
    run(landing, warehouse)
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(warehouse)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert analyst.stdout.readline().strip() == "open"
    shutil.rmtree(tmp_path / "state")  # force a full rebuild and a new publish
    run(landing, warehouse)  # publishes while the analyst's session is open
    out, _ = analyst.communicate("done\n", timeout=60)
    assert out.strip() == "True"  # the analyst kept a consistent view of the old file
    assert content(warehouse) == clean
    with duckdb.connect(str(warehouse), read_only=True) as conn:  # and new sessions see the new one
        assert conn.sql("select count(*) from core.person").fetchall()[0][0] > 0
