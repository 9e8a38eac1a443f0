"""A sensor per department folder: one run per new or changed file.

A tick only lists and stats the folder (``sources.landing.scan_landing``);
hashing and reading happen in the run. The cursor holds the stability
observations (so a half-written file waits for its quiet period) and the
version of every file already requested, so an unchanged re-drop starts
nothing and a changed file starts exactly one run.
"""


import json
import time

import dagster as dg

from pipelines.ingest.assets import ingest_asset_key
from sources.reports import os_error_text
from pipelines.ingest.sweep import mtime_observations
from pipelines.resources import HearthResource
from pipelines.settings import DEPARTMENTS
from sources.landing import scan_landing


def ingest_job_name(department: str) -> str:
    return f"ingest_{department}_and_publish"


def build_ingest_job(department: str):
    return dg.define_asset_job(
        name=ingest_job_name(department),
        selection=dg.AssetSelection.assets(ingest_asset_key(department)).downstream(),
        description=f"Ingest landing/{department}/ and rebuild everything downstream of it.",
    )


def build_folder_sensor(department: str, job,
                        interval_seconds: int = 30) -> dg.SensorDefinition:
    @dg.sensor(
        name=f"{department}_folder",
        job=job,
        minimum_interval_seconds=interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Watches landing/{department}/ and starts a run once per new or changed file, "
                    "after the file has been quiet long enough (or has a .done marker).",
    )
    def _sensor(context: dg.SensorEvaluationContext, hearth: HearthResource) -> dg.SensorResult:
        settings = hearth.settings()
        cursor = json.loads(context.cursor) if context.cursor else {}
        requested: dict[str, str] = cursor.get("requested", {})
        # Files never seen before count as quiet since their mtime (a file being
        # written has a fresh mtime); files seen before must also keep their size.
        try:
            observations = mtime_observations(settings.landing, department) | cursor.get("observations", {})
            scan = scan_landing(settings.landing, observations, now=time.time(),
                                quiet_seconds=settings.quiet_seconds, departments=(department,))
        except OSError as error:
            # A folder Hearth may not read (permissions, a share gone away): say so on every tick, in
            # words, and keep the cursor, so that nothing is requested twice once it can be read again.
            where = error.filename or settings.landing / department
            message = (f"Cannot read the landing folder {where} ({os_error_text(error)}). Give the account "
                       f"that runs Hearth read access to it; this sensor looks again at its next tick.")
            context.log.error(message)
            return dg.SensorResult(run_requests=[], cursor=context.cursor, skip_reason=dg.SkipReason(message))
        runs = []
        for found in scan.ready:
            if requested.get(found.key) == found.version:
                continue
            requested[found.key] = found.version
            runs.append(dg.RunRequest(run_key=found.run_key, tags={"hearth/file": found.key,
                                                                    "hearth/department": department}))
        present = {f.key for f in scan.ready + scan.waiting}
        requested = {k: v for k, v in requested.items() if k in present}
        waiting = [f.file_name for f in scan.waiting]
        return dg.SensorResult(
            run_requests=runs,
            cursor=json.dumps({"observations": scan.observations, "requested": requested}, sort_keys=True),
            skip_reason=None if runs else dg.SkipReason(
                f"no new files; waiting for {len(waiting)} still being written: {waiting[:5]}" if waiting
                else "no new or changed files"),
        )

    return _sensor


INGEST_JOBS = {d: build_ingest_job(d) for d in DEPARTMENTS}
FOLDER_SENSORS = [build_folder_sensor(d, INGEST_JOBS[d]) for d in DEPARTMENTS]
