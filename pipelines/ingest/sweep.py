"""Sweep one department folder: ingest every ready file, once.

Kept free of Dagster so the CLI, the assets and the tests share it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from sources.batch import ingest_files
from sources.ingest import IngestResult
from sources.landing import LandingFile, Refused, scan_landing
from sources.registry import StateDir
from sources import reports
from sources.readers import UnreadableFile


@dataclass
class DepartmentSweep:
    department: str
    results: list[IngestResult] = field(default_factory=list)
    waiting: list[LandingFile] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    #: reports the department folder refused, this run or before: delivered by a later sweep.
    reports_pending: list[reports.PendingReport] = field(default_factory=list)

    @property
    def new_files(self) -> list[IngestResult]:
        return [r for r in self.results if not r.already_known]


def mtime_observations(landing: Path, department: str) -> dict[str, dict]:
    """Seed stability observations from mtimes, so a one-shot run treats a file
    as unchanged since it was last modified (a file still being copied keeps
    moving its mtime and stays 'waiting')."""
    scan = scan_landing(landing, None, now=0.0, quiet_seconds=0.0, departments=(department,))
    return {key: obs | {"since": obs["mtime_ns"] / 1e9} for key, obs in scan.observations.items()}


def sweep_department(landing: Path, department: str, state: StateDir, *, quiet_seconds: float,
                     now: float | None = None, workers: int | None = 1) -> DepartmentSweep:
    """``workers``: files ingested at once (``None``: every core; see ``sources.batch``)."""
    now = time.time() if now is None else now
    scan = scan_landing(landing, mtime_observations(landing, department), now=now,
                        quiet_seconds=quiet_seconds, departments=(department,))
    sweep = DepartmentSweep(department, waiting=scan.waiting, refused=scan.refused)
    # Earlier reports first: a report written below for the same file is newer and must win.
    reports.deliver_pending(state.root, landing, department)
    sweep.results = ingest_files([(found.path, department) for found in scan.ready], state, workers=workers)
    for refused in scan.refused:
        error = UnreadableFile(refused.reason, "文件是指向接收文件夹之外的链接，出于安全原因未读取。",
                               "请直接放入文件本身，而不是快捷方式或链接。",
                               "Put the file itself in the folder, not a link or shortcut to it.")
        reports.write_report(refused.path.parent, refused.path.name,
                             reports.unreadable_report(refused.path.name, department, error), state_root=state.root)
    sweep.reports_pending = reports.pending_reports(state.root, landing, department)
    return sweep
