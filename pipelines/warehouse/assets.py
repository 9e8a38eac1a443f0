"""Warehouse: build into staging, audit with blocking checks, then publish.

``warehouse/staging`` builds a new DuckDB file nobody reads; the checks in
``pipelines.warehouse.checks`` audit it; ``warehouse/published`` runs only when
every blocking check passed, swaps the file in atomically and makes the staged
linkage IDs the new baseline. A failed check leaves the previous warehouse.
"""

import datetime as dt
import json

import dagster as dg
import duckdb
import polars as pl

from entity_resolution.household.inputs import load_frames
from pipelines.failures import TRANSIENT_IO, fail_fast_on_data_errors
from pipelines.linkage.assets import LINKAGE_KEY
from pipelines.resources import HearthResource, PseudonymKey
from pipelines.staging import LinkageStaging
from sources.registry import StateDir
from warehouse import privacy
from warehouse.build import RunInfo, build_warehouse
from warehouse.load import WarehouseInputs
from warehouse.publish import publish, staging_path

STAGING_KEY = dg.AssetKey(["warehouse", "staging"])
PUBLISHED_KEY = dg.AssetKey(["warehouse", "published"])


def warehouse_inputs(hearth: HearthResource, run_id: str | None = None) -> WarehouseInputs:
    """Inputs of a build: this run's staged linkage (default: the last published run's)."""
    settings = hearth.settings()
    staged = LinkageStaging(settings.state, run_id) if run_id else LinkageStaging(settings.state)
    state = StateDir(settings.state)
    quarantine = sorted((settings.state / "quarantine").glob("*/*.parquet"))
    return WarehouseInputs(
        accepted=load_frames(settings.state),
        links=staged.path("record_link"), person=staged.path("person"), household=staged.path("household"),
        household_member=staged.path("household_member"), id_lineage=staged.path("id_lineage"),
        review_queue=staged.path("review_queue"), quarantine=quarantine or None,
        registry=state.registry_path if state.registry_path.exists() else None,
    )


def pseudonym_key(hearth: HearthResource, pseudonym: PseudonymKey) -> privacy.PseudonymKey:
    if pseudonym.key:
        return privacy.PseudonymKey(pseudonym.key.encode())
    return privacy.load_key(demo=hearth.demo, environ={})


@dg.asset(
    key=STAGING_KEY,
    deps=[LINKAGE_KEY],
    group_name="warehouse",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    description="The warehouse built into a staging file (core, monitor, ops, restricted, analyst), "
                "with its own build checks recorded in ops.check. Analysts never open it.",
    pool="duckdb_writer",
    retry_policy=TRANSIENT_IO,
)
def warehouse_staging(context: dg.AssetExecutionContext, hearth: HearthResource,
                      pseudonym: PseudonymKey) -> dg.MaterializeResult:
    settings = hearth.settings()
    try:
        key = pseudonym_key(hearth, pseudonym)
    except privacy.MissingPseudonymKey as error:
        raise dg.Failure(str(error)) from None
    with fail_fast_on_data_errors("building the warehouse"):
        result = build_warehouse(
            warehouse_inputs(hearth, context.run.run_id), staging_path(settings.warehouse, context.run.run_id),
            RunInfo(run_id=context.run.run_id, started_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                    triggered_by=context.run.tags.get("hearth/trigger", context.run.tags.get("dagster/sensor_name", ""))),
            key=key, demo=key.demo, previous=settings.warehouse if settings.warehouse.exists() else None,
        )
    hits = rule_hit_counts(result.path)
    return dg.MaterializeResult(metadata={
        "path": str(result.path),
        "dagster/row_count": result.counts.get("core.record_link", 0),
        "tables": dg.MetadataValue.json(result.counts),
        "build_checks_failed": [c.name for c in result.failed()],
        "rule_hits_latest_snapshot": dg.MetadataValue.json(hits),
        "ruleset_version": result.ruleset_version,
        "pseudonym_key_id": result.pseudonym_key_id,
        "demo_key": result.demo_key,
        "timings_s": dg.MetadataValue.json(result.timings),
    })


def rule_hit_counts(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as conn:
        rows = conn.sql("""
            SELECT rule, count(DISTINCT household_id) FROM monitor.rule_hit
            WHERE snapshot_date = (SELECT max(snapshot_date) FROM monitor.rule_hit)
            GROUP BY rule ORDER BY rule""").fetchall()
    return {rule: n for rule, n in rows}


@dg.asset(
    key=PUBLISHED_KEY,
    deps=[STAGING_KEY],
    group_name="warehouse",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
    description="The published warehouse analysts open (data/warehouse.duckdb by default), replaced "
                "atomically only after every blocking check on the staging build passed.",
    pool="duckdb_writer",
    retry_policy=TRANSIENT_IO,
)
def warehouse_published(context: dg.AssetExecutionContext, hearth: HearthResource) -> dg.MaterializeResult:
    settings = hearth.settings()
    staged = LinkageStaging(settings.state, context.run.run_id)
    with staged.lock():
        target = publish(staging_path(settings.warehouse, context.run.run_id), settings.warehouse)
        baseline = staged.promote()
    metadata = {"path": str(target), "id_baseline": str(baseline)}
    report = write_report(context, hearth)
    if report is not None:
        metadata["report"] = dg.MetadataValue.path(str(report))
    return dg.MaterializeResult(metadata=metadata)


def write_report(context: dg.AssetExecutionContext, hearth: HearthResource):
    try:
        from warehouse.run_report import write_run_report
    except ImportError:  # the report module is optional until it lands
        return None
    settings = hearth.settings()
    out = settings.reports / f"{context.run.run_id}.html"
    return write_run_report(settings.warehouse, settings.state, out, run_id=context.run.run_id)


WAREHOUSE_ASSETS = [warehouse_staging, warehouse_published]
