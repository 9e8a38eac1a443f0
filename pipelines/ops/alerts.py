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
    alert = {
        "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "run_id": run.run_id,
        "job": run.job_name,
        "message": context.failure_event.message if context.failure_event else "",
        "file": run.tags.get("hearth/file", ""),
    }
    write_alert(hearth.settings(), alert)
    context.log.info(f"alert written for run {run.run_id}")
