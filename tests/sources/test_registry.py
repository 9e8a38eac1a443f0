from __future__ import annotations

from datetime import date, datetime, timezone

import polars as pl

from sources.registry import StateDir, current_files, file_id_of, load_registry, register


def entry(file_id, name, extract, arrived, county="529901", department="civil_affairs", **extra):
    return {
        "file_id": file_id, "department": department, "file_name": name, "size": 10, "mtime_ns": 1,
        "first_seen": arrived, "county_from_name": county, "extract_date": extract,
        "counties": [county] if county else [], "status": "ingested", "rows_read": 3, "rows_accepted": 3,
        "rows_quarantined": 0, "blank_rows": 0, **extra,
    }


def at(day, hour=0):
    return datetime(2026, 1, day, hour, tzinfo=timezone.utc)


def test_file_id_is_sha256_prefix():
    assert file_id_of(b"abc") == "ba7816bf8f01cfea"


def test_registering_same_bytes_again_changes_nothing(tmp_path):
    state = StateDir(tmp_path / "state")
    first = register(state, entry("f1", "a.csv", date(2026, 1, 5), at(5)))
    before = state.registry_path.read_bytes()
    again = register(state, entry("f1", "a.csv", date(2026, 1, 5), at(9), rows_accepted=99))
    assert again["rows_accepted"] == 3 and again["first_seen"] == first["first_seen"]
    assert state.registry_path.read_bytes() == before
    assert load_registry(state).height == 1
    assert not list(state.root.glob("*.tmp")) and not list(state.root.glob(".registry.parquet.*"))


def test_registry_schema_round_trips(tmp_path):
    state = StateDir(tmp_path)
    register(state, entry("f1", "a.csv", date(2026, 1, 5), at(5)))
    register(state, {"file_id": "f2", "department": "water", "file_name": "bad.xlsx", "status": "unreadable",
                     "reason": "truncated"})
    registry = load_registry(state)
    assert registry.columns[:3] == ["file_id", "department", "file_name"]
    assert registry.schema["counties"] == pl.List(pl.String)
    assert registry.filter(pl.col("status") == "unreadable")["reason"].to_list() == ["truncated"]


def test_current_history_and_superseded(tmp_path):
    state = StateDir(tmp_path)
    register(state, entry("old", "529901_20260101.csv", date(2026, 1, 1), at(1)))
    register(state, entry("first", "529901_20260105.csv", date(2026, 1, 5), at(5, 8)))
    # the corrected file for the same date arrives later and supersedes the first
    register(state, entry("fixed", "529901_20260105_v2.csv", date(2026, 1, 5), at(5, 15)))
    register(state, entry("other", "529902_20260103.csv", date(2026, 1, 3), at(3), county="529902"))
    register(state, entry("bad", "x.csv", date(2026, 1, 9), at(9), status="unreadable"))
    view = current_files(load_registry(state))
    status = dict(zip(view["file_id"], view["status"]))
    assert status == {"old": "history", "first": "superseded", "fixed": "current", "other": "current"}


def test_multi_county_file_counts_per_county(tmp_path):
    state = StateDir(tmp_path)
    register(state, entry("both", "all.csv", date(2026, 1, 5), at(5), counties=["529901", "529902"]))
    register(state, entry("newer", "529902_20260106.csv", date(2026, 1, 6), at(6), county="529902"))
    view = current_files(load_registry(state))
    rows = {(r["file_id"], r["county"]): r["status"] for r in view.iter_rows(named=True)}
    assert rows == {("both", "529901"): "current", ("both", "529902"): "history", ("newer", "529902"): "current"}
