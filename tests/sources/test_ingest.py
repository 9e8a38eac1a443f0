from __future__ import annotations

import json
from datetime import datetime, timezone

import polars as pl
import pytest

from extract_builders import HEADERS_EN, HEADERS_ZH, ROWS, csv_bytes, write_parquet, write_xlsx
from sources.ingest import ingest_file
from sources.registry import StateDir, current_files, load_registry

DEPARTMENT = "civil_affairs"
ARRIVED = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
# row 4 repeats row 1 exactly; row 5 has no record_id; row 6 reuses 0001 with other content
BAD_ROWS = ROWS + [ROWS[0], ["", "J03", "张三", "", "", "", ""], ["0001", "J09", "别人", "", "", "", ""]]


@pytest.fixture
def state(tmp_path) -> StateDir:
    return StateDir(tmp_path / "state")


def drop(landing, name: str, data: bytes, department: str = DEPARTMENT):
    path = landing / department / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("fmt", ["csv-gb18030", "xlsx-2-titles", "parquet-en"])
def test_ingest_writes_accepted_quarantine_registry_and_report(landing, state, fmt):
    folder = landing / DEPARTMENT
    if fmt == "csv-gb18030":
        path, first_data = drop(landing, "529901_20260105.csv", csv_bytes(HEADERS_ZH, BAD_ROWS, "gb18030")), 2
    elif fmt == "xlsx-2-titles":
        path, first_data = write_xlsx(folder / "529901_20260105.xlsx", HEADERS_ZH, BAD_ROWS, title_rows=2), 4
    else:
        path, first_data = write_parquet(folder / "529901_20260105.parquet", HEADERS_EN, BAD_ROWS), 1
    result = ingest_file(path, DEPARTMENT, state, arrived=ARRIVED)

    assert result.status == "ingested" and not result.already_known
    assert (result.rows_read, result.rows_accepted, result.rows_quarantined, result.blank_rows) == (6, 3, 3, 0)
    assert result.counties == ["529901"] and result.county_from_name == "529901"
    accepted = pl.read_parquet(result.accepted_path)
    assert accepted["row_number"].to_list() == [first_data, first_data + 1, first_data + 2]
    assert accepted["record_id"].to_list() == ["0001", "0002", "0003"]
    quarantine = pl.read_parquet(result.quarantine_path)
    assert sorted(quarantine["row_number"].to_list()) == [first_data + 3, first_data + 4, first_data + 5]
    raw = json.loads(quarantine.sort("row_number")["raw_row"][1])
    assert raw[HEADERS_ZH[2] if fmt != "parquet-en" else "name"] == "张三"  # headers as found in the file

    [row] = load_registry(state).to_dicts()
    assert row["status"] == "ingested" and row["rows_quarantined"] == 3 and row["file_id"] == result.file_id
    report = result.report_path.read_text("utf-8")
    assert result.report_path == folder / "_reports" / f"{path.name}.txt"
    assert "必填内容为空" in report and "missing required value" in report
    assert f"第 {first_data + 4} 行" in report and "记录编号（record_id）" in report


def test_re_drop_of_same_bytes_does_nothing(landing, state):
    path = drop(landing, "529901_20260105.csv", csv_bytes(HEADERS_ZH, ROWS))
    first = ingest_file(path, DEPARTMENT, state, arrived=ARRIVED)
    registry_bytes = state.registry_path.read_bytes()
    again = ingest_file(path, DEPARTMENT, state)
    assert again.already_known and again.file_id == first.file_id and again.rows_accepted == 3
    assert state.registry_path.read_bytes() == registry_bytes

    copy = drop(landing, "copy of 529901_20260105.csv", path.read_bytes())
    duplicate = ingest_file(copy, DEPARTMENT, state)
    assert duplicate.status == "duplicate" and "529901_20260105.csv" in duplicate.reason
    assert load_registry(state)["status"].to_list() == ["ingested", "duplicate"]
    # the department hears that the copy changed nothing, and which file it repeats
    report = duplicate.report_path.read_text("utf-8")
    assert duplicate.report_path == landing / DEPARTMENT / "_reports" / "copy of 529901_20260105.csv.txt"
    assert "没有重复导入" in report and "not loaded twice" in report
    assert "“529901_20260105.csv”" in report and ARRIVED.astimezone().strftime("%Y-%m-%d %H:%M") in report


def test_copy_of_an_unreadable_file_is_reported_as_not_loaded(landing, state):
    first = ingest_file(drop(landing, "529901_20260105.csv", csv_bytes(HEADERS_ZH, ROWS), "water"), "water", state)
    again = ingest_file(drop(landing, "副本.csv", csv_bytes(HEADERS_ZH, ROWS), "water"), "water", state)
    assert (first.status, again.status) == ("unreadable", "duplicate")
    report = again.report_path.read_text("utf-8")
    assert "未能导入" in report and "NOT loaded" in report and first.reason in report
    assert "529901_20260105.csv.txt" in report  # where the reason and what to send instead are


def test_corrected_file_for_same_date_supersedes(landing, state):
    first = ingest_file(drop(landing, "529901_20260105.csv", csv_bytes(HEADERS_ZH, BAD_ROWS)), DEPARTMENT, state,
                        arrived=ARRIVED)
    fixed = ingest_file(drop(landing, "529901_20260105.csv", csv_bytes(HEADERS_ZH, ROWS)), DEPARTMENT, state,
                        arrived=ARRIVED.replace(hour=15))
    assert fixed.file_id != first.file_id and fixed.rows_quarantined == 0
    view = current_files(load_registry(state))
    assert dict(zip(view["file_id"], view["status"])) == {first.file_id: "superseded", fixed.file_id: "current"}
    assert "没有发现问题" in fixed.report_path.read_text("utf-8")  # the stale problem report is replaced


@pytest.mark.parametrize(("name", "data", "words"), [
    ("empty.csv", b"", "empty"),
    ("garbage.csv", bytes(range(256)) * 40, "binary"),
    ("cut.xlsx", None, "damaged or incomplete"),
    ("noheader.csv", "a,b\n1,2\n".encode(), "No header row"),
    ("scan.pdf", b"%PDF-1.4", "not accepted"),
])
def test_unreadable_files_are_registered_and_reported(landing, state, tmp_path, name, data, words):
    if data is None:
        whole = write_xlsx(tmp_path / "whole.xlsx", HEADERS_ZH, ROWS).read_bytes()
        data = whole[: len(whole) // 2]
    result = ingest_file(drop(landing, name, data), DEPARTMENT, state)
    assert result.status == "unreadable" and words in result.reason
    assert result.accepted_path is None
    report = result.report_path.read_text("utf-8")
    assert "文件未能导入" in report and "was NOT loaded" in report and name in report
    assert "Traceback" not in report
    again = ingest_file(landing / DEPARTMENT / name, DEPARTMENT, state)
    assert again.already_known and again.status == "unreadable"


def test_wrong_department_is_reported(landing, state):
    result = ingest_file(drop(landing, "529901_20260105.csv", csv_bytes(HEADERS_ZH, ROWS), "water"), "water", state)
    assert result.status == "unreadable" and "civil_affairs" in result.reason
    report = result.report_path.read_text("utf-8")
    assert "民政局（civil_affairs）" in report and "水利局（water）" in report


def test_missing_required_column_is_a_file_problem(landing, state):
    headers = [h for h in HEADERS_ZH if h != "记录编号"]
    rows = [r[1:] for r in ROWS]
    result = ingest_file(drop(landing, "a.csv", csv_bytes(headers, rows)), DEPARTMENT, state)
    assert result.status == "unreadable" and "record_id" in result.reason
    assert "记录编号（record_id）" in result.report_path.read_text("utf-8")
