"""A department folder that refuses the report: the report waits in the state folder, never dropped."""

from __future__ import annotations

import errno
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from extract_builders import HEADERS_ZH, ROWS, csv_bytes
from pipelines.ingest.sweep import sweep_department
from sources import reports
from sources.ingest import ingest_file
from sources.registry import StateDir, load_registry

# the OS-level refusal helper of the fault tests
sys.path.insert(0, str(Path(__file__).parents[1] / "faults"))
from faults_support import refuse_under  # noqa: E402

DEPARTMENT = "civil_affairs"
ARRIVED = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


@pytest.fixture
def state(tmp_path) -> StateDir:
    return StateDir(tmp_path / "state")


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS, errno.ENOSPC])
def test_a_refused_report_waits_and_is_delivered_when_the_folder_takes_it(landing, state, monkeypatch, code):
    folder = landing / DEPARTMENT
    with monkeypatch.context() as refused:
        refuse_under(refused, folder, code=code)
        assert reports.write_report(folder, "a.csv", "报告 report\n", state_root=state.root) is None
        with pytest.raises(OSError):  # without a state folder to wait in, the error is the caller's
            reports.write_report(folder, "b.csv", "x", state_root=None)
        [waiting] = reports.deliver_pending(state.root, landing, DEPARTMENT)  # still refused
    assert not (folder / "_reports").exists()
    assert waiting.file_name == "a.csv" and waiting.folder == folder / "_reports"
    assert waiting.error == __import__("os").strerror(code)
    assert "write access" in reports.pending_problem([waiting], state.root)
    assert str(folder / "_reports") in reports.pending_problem([waiting], state.root)

    assert reports.deliver_pending(state.root, landing, DEPARTMENT) == []
    assert (folder / "_reports" / "a.csv.txt").read_text("utf-8") == "报告 report\n"
    assert reports.pending_reports(state.root, landing, DEPARTMENT) == []


def test_a_newer_report_replaces_the_one_waiting(landing, state, monkeypatch):
    folder = landing / DEPARTMENT
    with monkeypatch.context() as refused:
        refuse_under(refused, folder)
        reports.write_report(folder, "a.csv", "old\n", state_root=state.root)
        reports.write_report(folder, "a.csv", "newer, still refused\n", state_root=state.root)
        assert len(reports.pending_reports(state.root, landing, DEPARTMENT)) == 1
    reports.write_report(folder, "a.csv", "newest\n", state_root=state.root)
    assert reports.pending_reports(state.root, landing, DEPARTMENT) == []
    assert reports.deliver_pending(state.root, landing, DEPARTMENT) == []
    assert (folder / "_reports" / "a.csv.txt").read_text("utf-8") == "newest\n"


def test_ingest_keeps_the_data_and_the_report_of_a_folder_it_cannot_write(landing, state, monkeypatch):
    folder = landing / DEPARTMENT
    path = folder / "529901_20260105.csv"
    path.write_bytes(csv_bytes(HEADERS_ZH, ROWS + [["", "J03", "张三", "", "", "", ""]]))
    empty = folder / "529901_20260106.csv"
    empty.write_bytes(b"")
    with monkeypatch.context() as refused:
        refuse_under(refused, folder)
        result = ingest_file(path, DEPARTMENT, state, arrived=ARRIVED)
        unreadable = ingest_file(empty, DEPARTMENT, state, arrived=ARRIVED)
        # the retry Dagster makes, or the next run: the file is known, the report still waits
        again = ingest_file(path, DEPARTMENT, state, arrived=ARRIVED)

    assert result.status == "ingested" and (result.rows_accepted, result.rows_quarantined) == (3, 1)
    assert result.report_path is None and unreadable.report_path is None and again.already_known
    assert sorted(load_registry(state)["status"]) == ["ingested", "unreadable"]
    assert {p.file_name for p in reports.pending_reports(state.root, landing, DEPARTMENT)} == {
        path.name, empty.name}
    assert not (folder / "_reports").exists()

    sweep = sweep_department(landing, DEPARTMENT, state, quiet_seconds=0.0)  # the folder takes writes again
    assert sweep.reports_pending == []
    quarantine_report = (folder / "_reports" / f"{path.name}.txt").read_text("utf-8")
    assert "必填内容为空" in quarantine_report and "1 held back" in quarantine_report
    assert "0 字节" in (folder / "_reports" / f"{empty.name}.txt").read_text("utf-8")


def test_a_sweep_of_a_folder_that_refuses_reports_says_which_wait(landing, state, monkeypatch):
    folder = landing / DEPARTMENT
    (folder / "529901_20260105.csv").write_bytes(csv_bytes(HEADERS_ZH, ROWS))
    with monkeypatch.context() as refused:
        refuse_under(refused, folder, code=errno.EROFS)
        sweep = sweep_department(landing, DEPARTMENT, state, quiet_seconds=0.0)
    assert [r.status for r in sweep.results] == ["ingested"]
    [waiting] = sweep.reports_pending
    assert waiting.file_name == "529901_20260105.csv" and waiting.error == "Read-only file system"


def test_a_folder_that_cannot_be_listed_is_an_error_naming_it(landing, state, monkeypatch):
    folder = landing / DEPARTMENT
    (folder / "529901_20260105.csv").write_bytes(csv_bytes(HEADERS_ZH, ROWS))
    refuse_under(monkeypatch, folder, writes=False, reads=True)
    with pytest.raises(PermissionError) as raised:
        sweep_department(landing, DEPARTMENT, state, quiet_seconds=0.0)
    assert raised.value.filename == str(folder)
    assert load_registry(state).height == 0
