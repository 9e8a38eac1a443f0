"""Ingestion of a landing folder department by department, as a run does it: wall time per department.

    python -m bench.ingest_departments LANDING [--workers N]

Ingests into a throwaway state and prints, per department, the wall time, the
files and the sum of the files' own CPU times (in whichever process ingested
them). Run it once with ``--workers 1`` and once with the default to see what
the helper processes (``sources.batch``) buy on this machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from pipelines.ingest.sweep import sweep_department
from pipelines.settings import DEPARTMENTS
from sources.registry import StateDir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path)
    parser.add_argument("--workers", type=int, default=None, help="files at once (default: one per core)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hearth-ingest-") as tmp:
        state = StateDir(Path(tmp) / "state")
        started = time.perf_counter()
        for department in DEPARTMENTS:
            t0 = time.perf_counter()
            sweep = sweep_department(args.landing, department, state, quiet_seconds=0.0, workers=args.workers)
            seconds = time.perf_counter() - t0
            cpu = sum(r.cpu_seconds for r in sweep.results)
            print(f"{department:14s} {seconds:6.2f} s  {len(sweep.results):3d} files  file CPU {cpu:6.2f} s")
        print(f"{'all':14s} {time.perf_counter() - started:6.2f} s")


if __name__ == "__main__":
    main()
