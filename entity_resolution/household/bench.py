"""Measure household linkage on a generated drop: quality against truth, ID stability, time per stage.

    .venv/bin/python -m entity_resolution.household.bench --landing DIR [--state DIR]

``DIR`` is a ``hearth synth`` output (department folders + ``_truth/``). Every
file is ingested into a state directory (a temporary one unless ``--state``),
then linkage runs twice: on every snapshot but the last, then on all of them
with the first run's assignments as the previous state (as next month's run
would). Quality is the second run's against truth; stability compares the two.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import polars as pl

from entity_resolution.household.inputs import load_frames
from entity_resolution.household.pipeline import link_households
from entity_resolution.household.quality import id_stability, linkage_quality, load_truth
from sources.ingest import ingest_file
from sources.registry import StateDir

DEPARTMENTS = ("education", "health", "housing", "water", "civil_affairs")


def ingest_landing(landing: Path, state_dir: Path) -> None:
    state = StateDir(state_dir)
    for department in DEPARTMENTS:
        folder = landing / department
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.is_file() and not path.name.startswith(("_", ".")):
                ingest_file(path, department, state)


def snapshot_dates(frames: dict[str, pl.DataFrame]) -> list:
    return sorted(set().union(*(set(f.get_column("snapshot_date").unique().to_list()) for f in frames.values())))


def run(landing: Path, state_dir: Path, skip_ingest: bool = False) -> dict:
    if not skip_ingest:
        started = time.perf_counter()
        ingest_landing(landing, state_dir)
        ingest_seconds = round(time.perf_counter() - started, 1)
    else:
        ingest_seconds = None
    truth = load_truth(landing)
    frames = load_frames(state_dir)
    dates = snapshot_dates(frames)
    report: dict = {"ingest_seconds": ingest_seconds, "snapshots": [str(d) for d in dates]}
    first = None
    if len(dates) > 1:
        earlier = {d: f.filter(pl.col("snapshot_date") < dates[-1]) for d, f in frames.items()}
        first = link_households(earlier)
    second = link_households(frames, previous_state=first.state if first else None)
    report["mentions"] = second.mentions.height
    report["records"] = second.record_link.height
    report["persons"] = second.person.height
    report["households"] = second.household.height
    report["quality"] = linkage_quality(second.mentions, truth)
    if first is not None:
        report["id_stability"] = id_stability(first.mentions, second.mentions, truth)
        report["timings_first_run"] = first.timings
    report["timings"] = second.timings
    report["review_queue"] = second.review_queue.height
    report["methods"] = dict(second.record_link.group_by("method").len().iter_rows())
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--state", type=Path)
    parser.add_argument("--skip-ingest", action="store_true", help="the state already holds the landing's files")
    args = parser.parse_args(argv)
    if args.state:
        report = run(args.landing, args.state, args.skip_ingest)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            report = run(args.landing, Path(tmp))
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
