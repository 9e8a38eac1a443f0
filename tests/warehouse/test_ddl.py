from __future__ import annotations

from pathlib import Path

import duckdb

from wh_factory import World
from warehouse import ddl
from warehouse.dictionary import render
from schemas.departments import columns


def test_every_table_and_column_is_created_with_a_comment(tmp_path):
    conn = duckdb.connect(str(tmp_path / "ddl.duckdb"))
    tables = ddl.create_all(conn)
    found = {f"{s}.{t}": c for s, t, c in conn.sql(
        "SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE NOT internal").fetchall()}
    assert set(found) == {t.qualified for t in tables}
    assert all(found.values())
    blank = conn.sql("SELECT schema_name, table_name, column_name FROM duckdb_columns() "
                     "WHERE NOT internal AND (comment IS NULL OR comment = '')").fetchall()
    assert blank == []
    for schema in ("core", "monitor", "ops", "restricted", "analyst"):
        assert conn.sql("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = $s", params={"s": schema}).fetchall()[0][0] == 1


def test_fact_tables_follow_the_schemas_and_keep_identifiers_out_of_core():
    for department, name in ddl.FACT_TABLES.items():
        core = ddl.fact_table(department)
        restricted = ddl.identity_table(department)
        assert {"person_id", "household_id", "valid_from", "valid_to", "record_key"} <= set(core.column_names())
        for spec in columns(department):
            if spec.kind in ddl.IDENTIFYING_KINDS:
                assert spec.name not in core.column_names(), (department, spec.name)
                assert spec.name in restricted.column_names()
            elif spec.name != "record_id" and spec.name not in ddl.HEALTH_DETAIL_COLUMNS.get(department, ()):
                assert spec.name in core.column_names(), (department, spec.name)
    health = ddl.fact_table("health").column_names()
    assert "chronic_condition" not in health and "has_chronic_condition" in health


def test_types_come_from_the_schema_kinds(tmp_path):
    conn = duckdb.connect()
    ddl.create_all(conn)
    types = dict(conn.sql("SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'core' "
                          "AND table_name = 'health_coverage'").fetchall())
    assert types["out_of_pocket"] == "DOUBLE" and types["year"] == "INTEGER"
    assert types["serious_illness"] == "BOOLEAN" and types["valid_from"] == "DATE"


def test_empty_departments_still_give_the_full_typed_warehouse(build):
    result, conn = build(World())
    assert result.ok, result.failed()
    for name in ddl.FACT_TABLES.values():
        assert conn.sql(f"SELECT count(*) FROM core.{name}").fetchall()[0][0] == 0
    assert conn.sql("SELECT count(*) FROM analyst.lead").fetchall()[0][0] == 0


def test_the_data_dictionary_in_docs_is_generated_from_the_current_comments(build):
    # regenerate with: .venv/bin/hearth dictionary --warehouse <built warehouse> (writes docs/warehouse.md)
    _, conn = build(World())
    docs = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"
    assert docs.read_text(encoding="utf-8") == render(conn)
