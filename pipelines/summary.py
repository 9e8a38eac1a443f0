"""The closing summary of a run, for people: what arrived, what was kept,
what was quarantined and why, and what the warehouse now holds."""

from pathlib import Path

import duckdb
import polars as pl
from rich.console import Console
from rich.table import Table

from pipelines.settings import DEPARTMENTS, HearthSettings
from sources.registry import StateDir, load_registry
from sources.reports import PENDING_FOLDER, pending_reports


def ingestion_table(settings: HearthSettings) -> Table:
    registry = load_registry(StateDir(settings.state))
    table = Table(title="Ingestion (all files ever received)", title_justify="left")
    for column in ("department", "files", "unreadable", "rows read", "accepted", "quarantined", "blank"):
        table.add_column(column, justify="right" if column != "department" else "left")
    per = registry.group_by("department").agg(
        pl.len().alias("files"),
        (pl.col("status") == "unreadable").sum().alias("unreadable"),
        pl.col("rows_read").sum(), pl.col("rows_accepted").sum(),
        pl.col("rows_quarantined").sum(), pl.col("blank_rows").sum(),
    )
    by_department = {row["department"]: row for row in per.iter_rows(named=True)}
    for department in DEPARTMENTS:
        row = by_department.get(department)
        if row is None:
            table.add_row(department, "0", "0", "0", "0", "0", "0")
            continue
        table.add_row(department, *(f"{row[k] or 0:,}" for k in (
            "files", "unreadable", "rows_read", "rows_accepted", "rows_quarantined", "blank_rows")))
    return table


def warehouse_lines(warehouse: Path) -> list[str]:
    if not warehouse.exists():
        return []
    try:
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            tables = {f"{s}.{t}" for s, t in conn.sql(
                "select schema_name, table_name from duckdb_tables()").fetchall()}
            lines = []
            for name, label in (("core.person", "persons"), ("core.household", "households"),
                                ("core.record_link", "linked records"), ("monitor.lead", "lead rows")):
                if name in tables:
                    lines.append(f"{label}: {conn.sql(f'select count(*) from {name}').fetchall()[0][0]:,}")
            return lines
    except duckdb.Error as error:
        return [f"(could not open the warehouse to summarise it: {error})"]


def print_summary(settings: HearthSettings, console: Console, *, seconds: float, success: bool,
                  failed_checks: list[str], failed_steps: list[str], warnings: list[str] = (),
                  report: Path | None = None) -> None:
    console.print(ingestion_table(settings))
    for line in warehouse_lines(settings.warehouse):
        console.print(f"  {line}")
    if report is not None:
        console.print(f"Run report: {report}")
    reports = sorted(settings.landing.glob("*/_reports/*.txt"))
    if reports:
        console.print(f"Department reports: {len(reports)} under {settings.landing}/<department>/_reports/")
    pending = sum(len(pending_reports(settings.state, settings.landing, d)) for d in DEPARTMENTS)
    if pending:
        console.print(f"[red]Department reports not written:[/red] {pending}, waiting in "
                      f"{settings.state / PENDING_FOLDER} for the landing folder to take them (see below).")
    for warning in warnings:
        console.print(f"[yellow]Warning:[/yellow] {warning}")
    for check in failed_checks:
        console.print(f"[red]Check failed:[/red] {check}")
    if failed_checks:
        console.print("[red]The warehouse was not published; the previous one (if any) is unchanged.[/red]")
    for step in failed_steps:
        if "DagsterAssetCheckFailedError" in step or "blocking asset check failed" in step:
            continue  # already explained by the check lines above
        console.print(f"[red]Step failed:[/red] {step}")
    status = "[green]succeeded[/green]" if success else "[red]FAILED[/red]"
    console.print(f"Run {status} in {seconds:.1f} s. Warehouse: {settings.warehouse}")
