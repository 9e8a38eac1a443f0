"""Whole builds: idempotency, supersession, parquet inputs, dictionary, household, export."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from wh_factory import World, frame
from warehouse.build import RunInfo, build_warehouse, fingerprints
from warehouse.dictionary import write_dictionary
from warehouse.export import export_analyst_views
from warehouse.household import describe_household
from warehouse.load import WarehouseInputs

from conftest import TEST_KEY

JAN, AUG = date(2024, 1, 31), date(2024, 8, 31)


def rich_world() -> World:
    w = World()
    for s in (JAN, AUG):
        w.person("P1", "H1", name="王小芳", id_number="52260119800101123X", phone="13812345678")
        w.person("P2", "H1", name="李伟")
        w.add("education", s, "E1", "P2", "H1", name="李伟", status="辍学" if s == JAN else "在读",
              birth_date=date(2012, 1, 1), school="某小学", grade=5)
        w.add("health", s, "M1", "P1", "H1", insured="已参保", out_of_pocket=25000.0, serious_illness=True)
        w.add("health", s, "M2", "P2", "H1", insured="已参保")
        w.add("housing", s, "F1", "P1", "H1", owner_name="王小芳", grade="C", renovation="未改造" if s == JAN else "已改造")
        w.add("water", s, "W1", "P1", "H1", head_name="王小芳", quality_ok=True)
        w.add("civil_affairs", s, "C1", "P1", "H1", per_capita_income=7000.0, assistance_type="低保", status="在保")
        w.add("water", s, "W2", "P3", "H2", quality_ok=s == AUG)
    return w


def test_rerun_gives_identical_tables(tmp_path):
    inputs = rich_world().inputs()
    run = RunInfo("run-1", datetime(2024, 9, 1, 8, 0), "test")
    a = build_warehouse(inputs, tmp_path / "a.duckdb", run, key=TEST_KEY)
    b = build_warehouse(rich_world().inputs(), tmp_path / "b.duckdb", run, key=TEST_KEY)
    assert a.ok and b.ok
    fa, fb = fingerprints(a.path), fingerprints(b.path)
    assert fa == fb
    assert fa["monitor.rule_hit"][0] > 0 and fa["core.education_enrolment"][0] == 2
    # rebuilding into the same staging path replaces it
    c = build_warehouse(inputs, tmp_path / "a.duckdb", run, key=TEST_KEY)
    assert fingerprints(c.path) == fa


def test_every_rule_and_view_on_a_rich_household(build, tmp_path):
    result, conn = build(rich_world())
    assert result.ok, result.failed()
    rules = dict(conn.sql("SELECT snapshot_date, list(DISTINCT rule ORDER BY rule) FROM monitor.rule_hit "
                          "WHERE household_id = 'H1' GROUP BY 1").fetchall())
    assert rules == {JAN: ["education", "housing", "income", "medical_burden"], AUG: ["income", "medical_burden"]}
    text = describe_household(conn, "H1")
    key = conn.sql("SELECT household_key FROM core.household WHERE household_id = 'H1'").fetchall()[0][0]
    assert describe_household(conn, key) == text
    for expected in ("王*芳", "李*", "5226**********123X", "138****5678", "medical_burden", "education_enrolment",
                     "assistance", "History", "at_risk"):
        assert expected in text
    for secret in ("王小芳", "52260119800101123X", "13812345678", "E1", "H1 "):
        assert secret not in text
    assert "No household" in describe_household(conn, "nope")

    out = write_dictionary(result.path, tmp_path / "warehouse.md")
    doc = out.read_text(encoding="utf-8")
    assert "### `analyst.lead` (view)" in doc and "### `core.education_enrolment` (table)" in doc
    assert "`valid_to`" in doc

    files = export_analyst_views(result.path, tmp_path / "export")
    names = {p.stem for p in files}
    assert {"lead", "lead_event", "household_member", "education_enrolment", "rule_hit"} <= names
    assert pl.read_parquet(tmp_path / "export" / "lead.parquet").height == 4  # H2: water, then insurance (absent)


def test_a_later_file_for_the_same_county_and_date_supersedes(build):
    w = World()
    w.add("water", JAN, "W1", "P1", "H1", file_id="early", quality_ok=False)
    w.add("water", JAN, "W1", "P1", "H1", file_id="late", quality_ok=True)
    registry = pl.DataFrame({"file_id": ["early", "late"], "department": ["water", "water"],
                             "file_name": ["522601_20240131.csv"] * 2,
                             "first_seen": [datetime(2024, 2, 1), datetime(2024, 2, 2)],
                             "extract_date": [JAN, JAN], "status": ["ingested", "ingested"],
                             "rows_accepted": [1, 1]})
    result, conn = build(w.inputs(registry=registry))
    assert result.ok
    assert conn.sql("SELECT quality_ok, file_id FROM core.water_survey").fetchall() == [(True, "late")]
    assert conn.sql("SELECT count(*) FROM monitor.rule_hit").fetchall() == [(0,)]
    assert dict(conn.sql("SELECT file_id, role FROM ops.file").fetchall()) == {"early": "superseded", "late": "current"}


def test_inputs_from_a_state_directory_of_parquet(tmp_path):
    w = rich_world()
    inputs = w.inputs()
    state = tmp_path / "state"
    for department, df in inputs.accepted.items():
        for (file_id,), part in df.group_by("file_id"):
            path = state / "accepted" / department / f"{file_id}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            part.write_parquet(path)
    (state / "linkage").mkdir(parents=True)
    inputs.links.write_parquet(state / "linkage" / "record_link.parquet")
    for name in ("person", "household", "household_member"):
        getattr(inputs, name).write_parquet(state / "linkage" / f"{name}.parquet")
    q = state / "quarantine" / "water"
    q.mkdir(parents=True)
    pl.DataFrame({"department": ["water"], "file_id": ["x"], "file_name": ["522601_20240131.csv"],
                  "row_number": pl.Series([7], dtype=pl.Int32), "field": ["record_id"],
                  "reason": ["missing required value"], "raw_row": ['{"户主姓名": "王小芳"}']}).write_parquet(q / "x.parquet")
    from_files = build_warehouse(WarehouseInputs.from_state(state), tmp_path / "f.duckdb", RunInfo("r"), key=TEST_KEY)
    from_frames = build_warehouse(inputs, tmp_path / "m.duckdb", RunInfo("r"), key=TEST_KEY)
    assert from_files.ok
    fa, fb = fingerprints(from_files.path), fingerprints(from_frames.path)
    differing = {t for t in fa if fa[t] != fb[t]}
    assert differing == {"ops.quarantine", "restricted.quarantine_row", "ops.run"}


def test_unknown_department_is_refused(tmp_path):
    inputs = World().inputs()
    inputs.accepted["police"] = frame("water", [])
    with pytest.raises(ValueError, match="police"):
        build_warehouse(inputs, tmp_path / "x.duckdb", RunInfo("r"), key=TEST_KEY)
