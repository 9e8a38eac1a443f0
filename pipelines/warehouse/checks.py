"""Blocking checks on the staged warehouse: write–audit–publish.

A failing ERROR check skips ``warehouse/published`` in the same run, so the
previous warehouse stays in place; the check's description says why.
Freshness is a WARN: a stale department is flagged in the UI and the report,
never silently served, but it does not hold back the other departments.
"""

import datetime as dt

import dagster as dg
import polars as pl

from pipelines.resources import HearthResource
from pipelines.settings import DEPARTMENTS
from pipelines.staging import LinkageStaging
from pipelines.warehouse.assets import STAGING_KEY
from entity_resolution.household.pipeline import LinkageState
from sources.registry import StateDir, load_registry
from warehouse import audit
from warehouse.publish import staging_path


def _result(found: audit.Audit, severity=dg.AssetCheckSeverity.ERROR) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=found.passed, severity=severity, description=found.summary,
                               metadata={k: dg.MetadataValue.json(v) if isinstance(v, (dict, list)) else v
                                         for k, v in found.metadata.items()})


@dg.asset_check(asset=STAGING_KEY, blocking=True,
                description="The build's own checks passed (privacy scan of analyst views, keys, counts).")
def build_checks_passed(context: dg.AssetCheckExecutionContext, hearth: HearthResource) -> dg.AssetCheckResult:
    return _result(audit.build_checks(staging_path(hearth.settings().warehouse, context.run.run_id)))


@dg.asset_check(asset=STAGING_KEY, blocking=True,
                description="No household beyond a plausible size; enough records linked.")
def linkage_sanity(context: dg.AssetCheckExecutionContext, hearth: HearthResource) -> dg.AssetCheckResult:
    staged = LinkageStaging(hearth.settings().state, context.run.run_id)
    return _result(audit.linkage_sanity(staged.read("record_link"), staged.read("household_member"),
                                        max_household_size=hearth.max_household_size,
                                        min_link_rate=hearth.min_link_rate))


@dg.asset_check(asset=STAGING_KEY, blocking=True,
                description="Entities of the last published run keep their IDs (above a floor).")
def id_stability(context: dg.AssetCheckExecutionContext, hearth: HearthResource) -> dg.AssetCheckResult:
    settings = hearth.settings()
    previous = LinkageState.load(settings.state)
    staged = LinkageStaging(settings.state, context.run.run_id).staged_state()
    return _result(audit.id_stability(previous.assignments if previous else None, staged.assignments,
                                      floor=settings.min_id_stability))


@dg.asset_check(asset=STAGING_KEY, blocking=True,
                description="Every department's newest extract is recent enough (WARN when stale).")
def department_freshness(hearth: HearthResource) -> dg.AssetCheckResult:
    settings = hearth.settings()
    registry = load_registry(StateDir(settings.state))
    return _result(audit.freshness(registry, DEPARTMENTS, today=dt.date.today(),
                                   max_age_days=settings.freshness_days), dg.AssetCheckSeverity.WARN)


WAREHOUSE_CHECKS = [build_checks_passed, linkage_sanity, id_stability, department_freshness]
