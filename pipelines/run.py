"""Run the Hearth asset graph once, in process, with a live progress display.

The CLI and the tests use this; it executes exactly the assets and checks of
``pipelines.definitions`` (the same graph ``dagster dev`` shows).
"""

import tempfile
import threading
import uuid
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from pipelines.ingest.sweep import mtime_observations
from pipelines.settings import DEPARTMENTS, HearthSettings
from pipelines.warehouse.report import write_refused_run_report
from sources.landing import scan_landing


@dataclass
class RunOutcome:
    success: bool
    run_id: str
    seconds: float
    failed_steps: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    result: dg.ExecuteInProcessResult | None = None
    report: Path | None = None  # this run's HTML report


def wait_for_quiet_files(settings: HearthSettings, console: Console, max_wait: float | None = None) -> None:
    """A one-shot run should not skip files that were written a moment ago
    (e.g. by ``hearth synth``): wait until they have been quiet long enough."""
    deadline = time.time() + (settings.quiet_seconds + 1 if max_wait is None else max_wait)
    while time.time() < deadline:
        waiting = []
        for department in DEPARTMENTS:
            try:
                scan = scan_landing(settings.landing, mtime_observations(settings.landing, department),
                                    quiet_seconds=settings.quiet_seconds, departments=(department,))
            except OSError:
                continue  # a folder that cannot be read: its ingest step says so, with what to do
            waiting += [f for f in scan.waiting if f.size > 0]
        if not waiting:
            return
        console.print(f"[dim]waiting for {len(waiting)} file(s) to finish being written…[/dim]")
        time.sleep(1.0)


#: The run's own instance keeps no copy of the steps' output (it is deleted with the instance anyway, and
#: the output goes to the terminal as it is): Dagster's file capture mirrors it through ``tail -F``
#: processes, which when left behind (seen in CI) hold the run's stderr open, so that whatever reads it
#: (``hearth run | tee``, a test) waits forever.
NO_COMPUTE_LOG_FILES = {"compute_logs": {"module": "dagster._core.storage.noop_compute_log_manager",
                                         "class": "NoOpComputeLogManager"}}


def run_pipeline(settings: HearthSettings, *, console: Console | None = None,
                 instance: dg.DagsterInstance | None = None, selection=None,
                 log_level: str = "CRITICAL") -> RunOutcome:
    from pipelines.definitions import ASSETS, CHECKS, resources

    console = console or Console(stderr=True)
    scratch = None
    if instance is None and _has_dagster_home():
        instance = dg.DagsterInstance.get()
    elif instance is None:
        # On-disk SQLite (not the in-memory ephemeral instance): the progress
        # display reads the event log while the run writes it.
        scratch = tempfile.TemporaryDirectory(prefix="hearth-dagster-")
        instance = dg.DagsterInstance.local_temp(scratch.name, overrides=NO_COMPUTE_LOG_FILES)
    started = time.time()
    invocation = uuid.uuid4().hex
    holder: dict[str, object] = {}

    def _execute() -> None:
        try:
            holder["result"] = dg.materialize(
                [*ASSETS, *CHECKS], instance=instance, resources=resources(settings),
                raise_on_error=False, selection=selection,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
                tags={"hearth/trigger": "cli", "hearth/invocation": invocation})
        except BaseException as error:  # surfaced below, with the step that failed
            holder["error"] = error

    worker = threading.Thread(target=_execute, name="hearth-run", daemon=True)
    worker.start()
    _show_progress(worker, instance, invocation, console)
    worker.join()
    if scratch is not None:
        instance.dispose()
        scratch.cleanup()
    if "error" in holder:
        raise holder["error"]  # type: ignore[misc]
    result: dg.ExecuteInProcessResult = holder["result"]  # type: ignore[assignment]
    failed_steps, retried = [], {}
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None) if event.step_key else None
        failure = getattr(event.event_specific_data, "user_failure_data", None) if event.step_key else None
        raised_failure = error is not None and error.cls_name == "Failure" and failure is not None
        blocked_by_check = error is not None and error.cls_name == "DagsterAssetCheckFailedError"
        while error is not None and getattr(error, "cause", None) is not None:
            error = error.cause  # the user's error, not Dagster's retry wrapper
        message = (error.message.strip().splitlines() or [""])[-1] if error is not None else ""
        if raised_failure and failure.description:
            message = failure.description  # a dg.Failure says in its own words what failed and what to do
        elif blocked_by_check:
            message = " ".join(error.message.split(": ", 1)[-1].split())  # "1 blocking asset check failed ..."
        if event.event_type_value == "STEP_UP_FOR_RETRY" and message:
            retried[event.step_key] = message  # the cause, which "max retries exceeded" hides
        elif event.event_type_value == "STEP_FAILURE" and event.step_key:
            if event.step_key in retried:
                message = f"{message} (last error: {retried[event.step_key]})"
            failed_steps.append(f"{event.step_key}: {message}" if message else event.step_key)
    failed_checks, warnings = [], []
    for check in result.get_asset_check_evaluations():
        if check.passed:
            continue
        line = f"{check.asset_key.to_user_string()}:{check.check_name}: {check.description or ''}"
        (warnings if check.severity == dg.AssetCheckSeverity.WARN else failed_checks).append(line)
    report = settings.reports / f"{result.run_id}.html"
    if failed_checks and not report.exists():
        report = write_refused_run_report(settings, result.run_id, failed_checks)
    return RunOutcome(result.success and not failed_steps, result.run_id, time.time() - started,
                      failed_steps, failed_checks, warnings, result,
                      report if report is not None and report.exists() else None)


def _has_dagster_home() -> bool:
    import os
    return bool(os.environ.get("DAGSTER_HOME"))


_STEP_END = {"STEP_SUCCESS": "[green]✓[/green]", "STEP_FAILURE": "[red]✗[/red]", "STEP_SKIPPED": "[yellow]–[/yellow]"}


def _show_progress(worker: threading.Thread, instance: dg.DagsterInstance, invocation: str,
                   console: Console) -> None:
    """Poll the run's event log and show one line per step as it starts and ends."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        overall = progress.add_task("hearth run", total=None)
        tasks: dict[str, int] = {}
        seen = 0
        run_id = None
        while True:
            alive = worker.is_alive()
            try:
                if run_id is None:
                    runs = instance.get_runs(filters=dg.RunsFilter(tags={"hearth/invocation": invocation}), limit=1)
                    run_id = runs[0].run_id if runs else None
                logs = instance.all_logs(run_id) if run_id is not None else []
            except Exception:  # storage busy with the run's own writes: show progress on the next tick
                logs = []
                if alive:
                    time.sleep(0.2)
                    continue
            if run_id is not None and logs:
                for entry in logs[seen:]:
                    event = entry.dagster_event
                    if event is None or not event.step_key:
                        continue
                    name = event.step_key
                    if event.event_type_value == "STEP_START":
                        tasks[name] = progress.add_task(f"  {name}", total=1)
                    elif event.event_type_value in _STEP_END and name in tasks:
                        progress.update(tasks[name], completed=1,
                                        description=f"{_STEP_END[event.event_type_value]} {name}")
                seen = len(logs)
            if not alive:  # one last poll after the run ended, so every step shows its outcome
                break
            time.sleep(0.2)
        progress.update(overall, total=1, completed=1)


def landing_is_empty(landing: Path) -> bool:
    return not landing.exists() or not any(landing.iterdir())
