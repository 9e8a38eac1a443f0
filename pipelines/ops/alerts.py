"""Run-failure alerts: a line in ``<data>/alerts.log`` and a pluggable hook.

Set ``HEARTH_ALERT_HOOK=package.module:function`` to also send the alert
elsewhere (chat, e-mail); the function receives the alert dict.
"""

import datetime as dt
import importlib
import json
import os

import dagster as dg

from pipelines.resources import HearthResource
from pipelines.warehouse.report import write_refused_run_report


def failed_blocking_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """``"<asset>:<check>: <why>"`` for each blocking (ERROR) check of the run that failed."""
    lines = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            lines.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}: "
                         f"{evaluation.description or ''}")
    return lines


def _hook():
    spec = os.environ.get("HEARTH_ALERT_HOOK", "").strip()
    if not spec:
        return None
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def write_alert(settings, alert: dict) -> None:
    path = settings.data_dir / "alerts.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(alert, ensure_ascii=False, sort_keys=True) + "\n")
    if (hook := _hook()) is not None:
        hook(alert)


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Writes one JSON line per failed run to <data>/alerts.log and calls HEARTH_ALERT_HOOK if set.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, hearth: HearthResource) -> None:
    run = context.dagster_run
    settings = hearth.settings()
    refused_by = failed_blocking_checks(context.instance, run.run_id)
    report = settings.reports / f"{run.run_id}.html"
    if refused_by and not report.exists():
        report = write_refused_run_report(settings, run.run_id, refused_by)
    alert = {
        "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "job": run.job_name,
        "message": context.failure_event.message if context.failure_event else "",
        "file": run.tags.get("hearth/file", ""),
        "failed_checks": refused_by,
        "report": str(report) if report is not None and report.exists() else "",
    }
    write_alert(settings, alert)
    context.log.info(f"alert written for run {run.run_id}")
