"""The Hearth code location: ``dagster dev -w workspace.yaml``."""


import dagster as dg

from pipelines.ingest.assets import INGEST_ASSETS, INGEST_CHECKS
from pipelines.ingest.sensors import FOLDER_SENSORS, INGEST_JOBS
from pipelines.linkage.assets import household_links, linkage_job
from pipelines.ops.alerts import alert_on_run_failure
from pipelines.ops.schedules import daily_job, daily_schedule
from pipelines.resources import HearthResource, PseudonymKey
from pipelines.warehouse.assets import WAREHOUSE_ASSETS
from pipelines.warehouse.checks import WAREHOUSE_CHECKS
from pipelines.privacy import restrict_new_files
from pipelines.settings import HearthSettings

restrict_new_files()

ASSETS = [*INGEST_ASSETS, household_links, *WAREHOUSE_ASSETS]
CHECKS = [*INGEST_CHECKS, *WAREHOUSE_CHECKS]


def resources(settings: HearthSettings | None = None) -> dict[str, dg.ConfigurableResource]:
    settings = settings or HearthSettings.from_env()
    return {"hearth": HearthResource.from_settings(settings), "pseudonym": PseudonymKey.from_env()}


SETTINGS = HearthSettings.from_env()

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[daily_job, linkage_job, *INGEST_JOBS.values()],
    schedules=[daily_schedule(SETTINGS)],
    sensors=[*FOLDER_SENSORS, alert_on_run_failure],
    resources=resources(SETTINGS),
)


def linkage_job_definition() -> dg.JobDefinition:
    """The linkage job, for ``dg.reconstructable`` (multiprocess runs outside a daemon: tests, benchmarks)."""
    return defs.resolve_job_def(linkage_job.name)
