"""Build a complete, checked warehouse into a NEW DuckDB file.

Write–audit–publish: ``build_warehouse`` writes a staging file nobody reads,
runs the checks, and only ``warehouse.publish`` moves a passing file to the
stable path analysts open. Nothing in a build depends on the wall clock, so
the same inputs and ``RunInfo`` give identical table contents.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from warehouse import ddl, monitoring, privacy, rules, views
from warehouse.ddl import FACT_TABLES, quote
from warehouse.load import WarehouseInputs, load_all


@dataclass(frozen=True)
class RunInfo:
    """Who/what/when of a run; recorded in ops.run as given (never read from the clock here)."""

    run_id: str
    started_at: datetime | None = None
    triggered_by: str = ""


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class BuildResult:
    path: Path
    run_id: str
    counts: dict[str, int]
    checks: list[Check]
    seconds: float
    ruleset_version: str
    pseudonym_key_id: str
    demo_key: bool
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]


def build_warehouse(
    inputs: WarehouseInputs,
    out_path: Path | str,
    run_info: RunInfo,
    *,
    rules_path: Path | str | None = None,
    key: privacy.PseudonymKey | None = None,
    demo: bool = False,
    privacy_scan: bool = True,
    threads: int | None = None,
    previous: Path | str | None = None,
) -> BuildResult:
    """Build the warehouse into ``out_path`` (replaced if it exists: it must be a staging path).

    ``key`` defaults to ``privacy.load_key(demo=demo)`` (``HEARTH_PSEUDONYM_KEY``).
    ``previous``: the published warehouse, if any; its ``ops.run`` rows (the run history) are
    carried into the new file. It is opened read-only and only that table is read.
    Returns the counts and checks; publish only when ``result.ok``.
    """
    started = time.perf_counter()
    ruleset = rules.load_rules(rules_path)
    key = key or privacy.load_key(demo=demo)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    for stale in (out, out.with_name(out.name + ".wal")):
        stale.unlink(missing_ok=True)
    timings: dict[str, float] = {}

    def step(name: str, t0: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - t0, 3)
        return now

    conn = duckdb.connect(str(out))
    try:
        if threads:
            conn.execute(f"SET threads = {int(threads)}")
        conn.execute("SET preserve_insertion_order = false")
        t = time.perf_counter()
        # one transaction: thousands of small DDL/COMMENT statements would each commit otherwise
        conn.execute("BEGIN TRANSACTION")
        ddl.create_all(conn)
        t = step("ddl", t)
        load_all(conn, inputs, key)
        t = step("load", t)
        rules.evaluate(conn, ruleset)
        t = step("rules", t)
        monitoring.compute(conn)
        t = step("monitoring", t)
        views.create_views(conn)
        t = step("views", t)
        counts = table_counts(conn)
        checks = run_checks(conn, privacy_scan=privacy_scan)
        t = step("checks", t)
        conn.execute("INSERT INTO ops.check VALUES " + ", ".join(["(?, ?, ?)"] * len(checks)),
                     [v for c in checks for v in (c.name, c.passed, c.detail)])
        conn.execute("INSERT INTO ops.run VALUES (?, ?, ?, ?, ?, ?, ?, ?, true)",
                     [run_info.run_id, run_info.started_at, run_info.triggered_by, ruleset.version, ruleset.sha256,
                      key.key_id, key.demo, json.dumps(counts, sort_keys=True)])
        conn.execute("COMMIT")
        # after the commit: a database cannot be attached and detached inside the build's transaction
        carry_run_history(conn, previous, run_info.run_id)
        conn.execute("CHECKPOINT")
    finally:
        conn.close()
    step("total", started)
    return BuildResult(out, run_info.run_id, counts, checks, round(time.perf_counter() - started, 3),
                       ruleset.version, key.key_id, key.demo, timings)


def carry_run_history(conn: duckdb.DuckDBPyConnection, previous: Path | str | None, run_id: str) -> int:
    """Copy the earlier runs of the published warehouse ``previous`` into ``ops.run``; return how many.

    A missing file is a first build. Columns the older file lacks are NULL; its runs are
    never the one that built this file. A rerun under the same run ID is not carried twice.
    """
    if previous is None or not Path(previous).exists():
        return 0
    conn.execute("ATTACH ? AS _previous (READ_ONLY)", [str(previous)])
    try:
        have = {c for (c,) in conn.sql("SELECT column_name FROM duckdb_columns() WHERE database_name = '_previous' "
                                        "AND schema_name = 'ops' AND table_name = 'run'").fetchall()}
        if "run_id" not in have:
            return 0
        columns = ddl.table("ops.run").columns
        select = ", ".join("false" if c.name == "built_this_file" else
                           (f"p.{quote(c.name)}" if c.name in have else f"CAST(NULL AS {c.type})") for c in columns)
        before = _scalar(conn, "SELECT count(*) FROM ops.run")
        conn.execute(f"INSERT INTO ops.run SELECT {select} FROM _previous.ops.run p "
                     "WHERE p.run_id IS NOT NULL AND p.run_id NOT IN (SELECT run_id FROM ops.run)")
        return _scalar(conn, "SELECT count(*) FROM ops.run") - before
    finally:
        conn.execute("DETACH _previous")


def user_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    rows = conn.sql("SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal AND NOT temporary "
                    "AND database_name = current_database() ORDER BY 1, 2").fetchall()
    return [f"{s}.{t}" for s, t in rows]


def table_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = user_tables(conn)
    query = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in tables)  # names from the catalog
    return {t: n for t, n in conn.sql(query).fetchall()}


def fingerprint(conn: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int]:
    """Order-independent fingerprint of a table's contents: (rows, sum of row hashes)."""
    schema, name = table.split(".")
    row = conn.sql(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM {schema}.{quote(name)} t").fetchall()[0]
    return int(row[0]), int(row[1])


def fingerprints(path: Path | str) -> dict[str, tuple[int, int]]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return {t: fingerprint(conn, t) for t in user_tables(conn)}
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# checks

def _scalar(conn: duckdb.DuckDBPyConnection, query: str) -> int:
    return int(conn.sql(query).fetchall()[0][0] or 0)


def run_checks(conn: duckdb.DuckDBPyConnection, privacy_scan: bool = True) -> list[Check]:
    checks: list[Check] = []
    for department, table in FACT_TABLES.items():
        # only records with several versions can overlap: the ordered scan is over those alone
        overlaps = _scalar(conn, f"""
            WITH several AS (SELECT record_id FROM core.{table} GROUP BY record_id HAVING count(*) > 1)
            SELECT count(*) FROM (SELECT valid_from, lag(coalesce(valid_to, DATE '9999-12-31')) OVER
                 (PARTITION BY record_id ORDER BY valid_from) AS prev_to FROM core.{table} SEMI JOIN several USING (record_id))
            WHERE prev_to > valid_from""")
        checks.append(Check(f"{table}: versions do not overlap", overlaps == 0, f"{overlaps} overlapping versions"))
        bad = _scalar(conn, f"SELECT count(*) FROM core.{table} WHERE valid_to IS NOT NULL AND valid_to <= valid_from")
        checks.append(Check(f"{table}: valid_to after valid_from", bad == 0, f"{bad} rows"))
        unlinked = _scalar(conn, f"SELECT count(*) FROM core.{table} WHERE household_id IS NULL")
        total = _scalar(conn, f"SELECT count(*) FROM core.{table}")
        share = unlinked / total if total else 0.0
        checks.append(Check(f"{table}: records linked to a household", share <= 0.01,
                            f"{unlinked} of {total} versions without a household"))
    for entity, table, column in (("person", "core.person", "person_key"), ("household", "core.household", "household_key")):
        dupes = _scalar(conn, f"SELECT count(*) - count(DISTINCT {column}) FROM {table}")
        checks.append(Check(f"{entity} keys unique", dupes == 0, f"{dupes} duplicate keys"))
    for tbl in ddl.all_tables():
        if not tbl.primary_key or (tbl.schema == "core" and tbl.name in FACT_TABLES.values()):
            continue  # a fact table's key (record_id, valid_from) is unique when its versions do not overlap
        key = ", ".join(quote(c) for c in tbl.primary_key)
        dupes = _scalar(conn, f"SELECT count(*) FROM (SELECT 1 FROM {tbl.schema}.{quote(tbl.name)} "
                              f"GROUP BY {key} HAVING count(*) > 1)")
        checks.append(Check(f"{tbl.qualified}: key ({', '.join(tbl.primary_key)}) unique", dupes == 0,
                            f"{dupes} repeated keys"))
    orphans = _scalar(conn, "SELECT count(*) FROM monitor.rule_hit r ANTI JOIN core.household h USING (household_id)")
    checks.append(Check("rule hits belong to known households", orphans == 0, f"{orphans} hits"))
    uncommented = conn.sql("""
        SELECT schema_name || '.' || table_name || '.' || column_name FROM duckdb_columns()
        WHERE NOT internal AND database_name = current_database()
          AND schema_name IN ('core', 'monitor', 'ops', 'restricted', 'analyst') AND (comment IS NULL OR comment = '')
        LIMIT 5""").fetchall()
    checks.append(Check("every column has a comment", not uncommented, ", ".join(r[0] for r in uncommented)))
    if privacy_scan:
        leaks = privacy.scan_analyst_views(conn)
        checks.append(Check("privacy scan of analyst views", not leaks,
                            "; ".join(f"{l.view}.{l.column}: {l.kind} ({l.example})" for l in leaks[:10])))
    return checks
