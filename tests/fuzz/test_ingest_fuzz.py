"""ingest_file and the landing scan on hostile names, links and file-system races.

Every case ends as an ingested file or an ``unreadable`` result with a report
under ``_reports/``; nothing escapes, and nothing outside the landing folder
(except the state directory, which is ingestion's own output) changes.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, strategies as st

from fuzz_support import csv_line, fuzz_settings, make_landing, snapshot_outside
from sources.readers.header_row import column_names
from sources.ingest import IngestResult, ingest_file
from sources.landing import scan_landing
from sources.registry import StateDir, load_registry
from sources.reports import REPORTS_FOLDER

DEPARTMENT = "civil_affairs"
GOOD_CSV = "记录编号,姓名,身份证号\n0001,王芳,52990119800101002X\n0002,,\n0001,李四,\n".encode("utf-8")
HOSTILE_PIECES = ["..", " ", "$(rm -rf x)", ";", "|", "`rm -rf x`", "&&", ">", "'", '"', "\\", "*", "?",
                  "青石县", "低保", "~", "-", "\t", "#", "%s", "{}", "\u202e", "\u200b", "\ufeff"]


def _os_file_name(name: str) -> bool:
    """A name a Linux folder can hold: at most 255 bytes (240 leaves room for suffixes), no leading
    "_"/"." (never data). Undecodable bytes come to Python as the surrogates U+DC80-U+DCFF; any
    other surrogate (U+D800) stands for no byte at all and cannot be a file name."""
    try:
        size = len(name.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return False
    return size <= 240 and not name.startswith(("_", "."))


#: a name component: no "/" or NUL (the OS forbids them).
names = st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES),
                           st.text(st.characters(exclude_characters="/\x00"), min_size=1, max_size=8)),
                 min_size=1, max_size=8).map("".join).filter(_os_file_name)


def assert_accounted(result: IngestResult, landing: Path) -> None:
    assert result.status in ("ingested", "unreadable", "duplicate")
    if result.status == "unreadable":
        assert result.reason
    assert result.report_path is not None and result.report_path.is_file()
    assert result.report_path.parent == landing / DEPARTMENT / REPORTS_FOLDER
    if result.status == "ingested":
        assert result.rows_read == result.rows_accepted + result.rows_quarantined + result.blank_rows


def ingest_in(root: Path, name: str, data: bytes, suffix: str = ".csv") -> tuple[IngestResult, Path]:
    landing = make_landing(root / "case")
    state = StateDir(root / "case" / "state")
    path = landing / DEPARTMENT / (name + suffix)
    path.write_bytes(data)
    before = snapshot_outside(root, landing, state.root)
    result = ingest_file(path, DEPARTMENT, state)
    assert snapshot_outside(root, landing, state.root) == before, "something outside the landing folder changed"
    assert_accounted(result, landing)
    return result, landing


@fuzz_settings(0.15)
@given(name=names, suffix=st.sampled_from([".csv", ".CSV", ".xlsx", "", ".csv.exe", ".csv;ls"]))
def test_hostile_file_names(world, name, suffix):
    result, landing = ingest_in(world, name, GOOD_CSV, suffix)
    assert result.file_name == name + suffix
    if suffix.lower() == ".csv":
        assert result.status == "ingested" and result.rows_quarantined == 2  # blank name, repeated id
    assert (world / "x" / "keep.txt").read_text() == "must survive"
    scan = scan_landing(landing, now=1e12, quiet_seconds=0)
    assert [f.file_name for f in scan.ready] == [name + suffix]


@fuzz_settings(0.1)
@given(raw=st.binary(min_size=1, max_size=60).filter(lambda b: b"/" not in b and b"\x00" not in b
                                                   and not b.startswith((b"_", b"."))))
def test_file_names_that_are_not_utf8(world, raw):
    result, landing = ingest_in(world, os.fsdecode(raw), GOOD_CSV)
    assert result.status == "ingested"
    json.dumps(result.file_name, ensure_ascii=False).encode("utf-8")  # printable and storable
    assert load_registry(StateDir(world / "case" / "state"))["file_name"].to_list() == [result.file_name]
    scan_landing(landing, now=1e12, quiet_seconds=0)


@fuzz_settings(0.15)
@given(headers=st.lists(st.one_of(
    st.sampled_from(['"; DROP TABLE core.person; --', "'; DELETE FROM registry; --", "姓名); DROP TABLE x;--",
                     "${jndi:ldap://x}", "{{7*7}}", "<script>", "记录编号", "姓名", "", " ", "身份证号"]),
    st.text(max_size=20)), max_size=12))
def test_hostile_headers_end_in_the_raw_row_never_in_sql(world, headers):
    all_headers = ["记录编号", "姓名", *headers]
    row = csv_line(["0001", "王芳", *["v"] * len(headers)])
    # the repeated row is quarantined as an exact duplicate, so its raw_row shows the headers as read
    result, _ = ingest_in(world, "529901_20260105", (csv_line(all_headers) + row + row).encode("utf-8"))
    if result.status == "ingested":
        [raw_row] = pl.read_parquet(result.quarantine_path)["raw_row"].to_list()
        assert list(json.loads(raw_row)) == column_names(all_headers)
    assert (world / "x" / "keep.txt").exists()


def test_sources_and_schemas_never_talk_sql():
    """Ingestion builds no SQL at all, so no header or cell can become SQL."""
    root = Path(__file__).resolve().parents[2]
    for package in ("sources", "schemas"):
        for module in (root / package).rglob("*.py"):
            text = module.read_text(encoding="utf-8")
            assert "duckdb" not in text and "sqlite" not in text and ".execute(" not in text, module


def test_ten_megabyte_cell_is_ingested(world):
    huge = "备注" * 2_600_000
    data = f"记录编号,姓名,家庭住址\n0001,王芳,{huge}\n0002,李四,营坝村\n".encode("utf-8")
    result, _ = ingest_in(world, "big", data)
    assert result.status == "ingested" and result.rows_accepted == 2
    assert pl.read_parquet(result.accepted_path)["address"][0] == huge


def test_symlink_out_of_the_landing_folder_is_not_read(world):
    landing = make_landing(world / "case")
    state = StateDir(world / "case" / "state")
    link = landing / DEPARTMENT / "529901_20260105.csv"
    link.symlink_to(world / "secret.csv")
    before = snapshot_outside(world, landing, state.root)
    result = ingest_file(link, DEPARTMENT, state)
    assert result.status == "unreadable" and "outside the landing folder" in result.reason
    assert_accounted(result, landing)
    assert not (state.root / "accepted").exists()
    assert snapshot_outside(world, landing, state.root) == before
    assert [r.path for r in scan_landing(landing, now=1e12, quiet_seconds=0).refused] == [link]


@pytest.mark.parametrize("make", ["loop", "dangling", "to_dev_zero", "to_folder"])
def test_broken_and_special_links(world, make):
    landing = make_landing(world / "case")
    folder = landing / DEPARTMENT
    link = folder / "a.csv"
    if make == "loop":
        link.symlink_to(folder / "b.csv")
        (folder / "b.csv").symlink_to(link)
    elif make == "dangling":
        link.symlink_to(world / "nowhere.csv")
    elif make == "to_dev_zero":
        link.symlink_to("/dev/zero")
    else:
        link.symlink_to(world / "x", target_is_directory=True)
    scan = scan_landing(landing, now=1e12, quiet_seconds=0)
    assert link in [r.path for r in scan.refused] and not scan.ready
    result = ingest_file(link, DEPARTMENT, StateDir(world / "case" / "state"))
    assert result.status == "unreadable"
    assert_accounted(result, landing)
    assert (world / "x" / "keep.txt").read_text() == "must survive"


def test_reports_folder_planted_as_a_link_out(world):
    landing = make_landing(world / "case")
    (landing / DEPARTMENT / REPORTS_FOLDER).symlink_to(world / "x", target_is_directory=True)
    state = StateDir(world / "case" / "state")
    before = snapshot_outside(world, landing, state.root)
    (landing / DEPARTMENT / "a.csv").write_bytes(GOOD_CSV)
    result = ingest_file(landing / DEPARTMENT / "a.csv", DEPARTMENT, state)
    assert_accounted(result, landing)
    assert snapshot_outside(world, landing, state.root) == before


def test_folder_named_like_a_file(world):
    landing = make_landing(world / "case")
    folder = landing / DEPARTMENT / "529901_20260105.csv"
    folder.mkdir()
    (folder / "inner.csv").write_bytes(GOOD_CSV)
    assert not scan_landing(landing, now=1e12, quiet_seconds=0).ready
    result = ingest_file(folder, DEPARTMENT, StateDir(world / "case" / "state"))
    assert result.status == "unreadable" and "not a file" in result.reason
    assert_accounted(result, landing)


def test_named_pipe_does_not_hang(world):
    landing = make_landing(world / "case")
    pipe = landing / DEPARTMENT / "a.csv"
    os.mkfifo(pipe)
    results: list[IngestResult] = []
    worker = threading.Thread(target=lambda: results.append(
        ingest_file(pipe, DEPARTMENT, StateDir(world / "case" / "state"))), daemon=True)
    worker.start()
    worker.join(30)  # not a timing assertion: a pipe nobody writes to would block forever
    assert results and results[0].status == "unreadable"
    assert_accounted(results[0], landing)


@pytest.mark.parametrize("replacement", ["vanished", "folder", "unreadable"])
def test_file_changes_between_scan_and_read(world, replacement):
    landing = make_landing(world / "case")
    path = landing / DEPARTMENT / "529901_20260105.csv"
    path.write_bytes(GOOD_CSV)
    [found] = scan_landing(landing, now=1e12, quiet_seconds=0).ready
    path.unlink()
    if replacement == "folder":
        path.mkdir()
    elif replacement == "unreadable":
        path.write_bytes(GOOD_CSV)
        path.chmod(0)
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions do not stop reads")
    state = StateDir(world / "case" / "state")
    result = ingest_file(found.path, DEPARTMENT, state)
    assert result.status == "unreadable"
    assert_accounted(result, landing)
    # nothing registered: when the file comes back it is read afresh
    assert load_registry(state).height == 0
