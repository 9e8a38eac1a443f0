"""The daily run: every department folder, linkage, warehouse, publish."""

import dagster as dg

from pipelines.settings import HearthSettings

daily_job = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    description="Ingest every department folder, link, build, check and publish the warehouse.",
)


def daily_schedule(settings: HearthSettings) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="daily_refresh_schedule",
        job=daily_job,
        cron_schedule=settings.schedule_cron,
        execution_timezone=settings.schedule_timezone,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"Daily full refresh ({settings.schedule_cron}, {settings.schedule_timezone}); "
                    "set HEARTH_SCHEDULE_CRON / HEARTH_SCHEDULE_TIMEZONE to change.",
    )
