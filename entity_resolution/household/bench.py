"""Measure household linkage on a generated drop: quality against truth, ID stability, time and memory per stage.

    .venv/bin/python -m entity_resolution.household.bench --landing DIR [--state DIR] [--skip-ingest] [--json PATH]

``DIR`` is a ``hearth synth`` output (department folders + ``_truth/``). Every
file is ingested into a state directory (a temporary one unless ``--state``),
then linkage runs twice: on every snapshot but the last, then on all of them
with the first run's assignments as the previous state (as next month's run
would). Quality is the second run's against truth; stability compares the two.

Wall seconds depend on what else the machine runs; CPU seconds (all threads of
this process) say what the work cost, so both are reported per stage. Peak
memory is the highest resident set size sampled while a linkage run works.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import polars as pl
import psutil

from entity_resolution.household.inputs import load_frames
from entity_resolution.household.pipeline import HouseholdLinkResult, link_households
from entity_resolution.household.quality import id_stability, linkage_quality, load_truth
from sources.ingest import ingest_file
from sources.registry import StateDir

DEPARTMENTS = ("education", "health", "housing", "water", "civil_affairs")
GIB = 1024**3
T = TypeVar("T")


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


@contextmanager
def peak_rss(interval: float = 0.05) -> Iterator[dict[str, float]]:
    """Samples this process's resident set size in a thread; ``result["peak_gib"]`` once the block ends."""
    process = psutil.Process(os.getpid())
    result = {"peak_gib": process.memory_info().rss / GIB}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(interval):
            result["peak_gib"] = max(result["peak_gib"], process.memory_info().rss / GIB)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()
        result["peak_gib"] = round(max(result["peak_gib"], process.memory_info().rss / GIB), 3)


def measured(work: Callable[[], T]) -> tuple[T, dict]:
    """``work()`` with its wall and CPU seconds and peak resident memory."""
    with peak_rss() as memory:
        wall, cpu = time.perf_counter(), time.process_time()
        value = work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return value, {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_gib": memory["peak_gib"]}


def _run_report(result: HouseholdLinkResult, cost: dict) -> dict:
    return {
        **cost,
        "mentions": result.mentions.height,
        "stages_wall_s": result.timings,
        "stages_cpu_s": result.cpu_timings,
        "engine_stages": result.engine_timings,
        "blocking": result.blocking_report.select("rule", "largest_block", "pairs_produced", "new_pairs").to_dicts(),
    }


def run(landing: Path, state_dir: Path, skip_ingest: bool = False) -> dict:
    """Ingest (unless ``skip_ingest``), link twice, and report quality, stability, time and memory as a dict."""
    landing, state_dir = Path(landing), Path(state_dir)
    report: dict = {"landing": str(landing), "cpu_count": os.cpu_count()}
    if not skip_ingest:
        _, report["ingest"] = measured(lambda: ingest_landing(landing, state_dir))
    truth = load_truth(landing)
    frames = load_frames(state_dir)
    dates = snapshot_dates(frames)
    report["snapshots"] = [str(d) for d in dates]
    first = None
    if len(dates) > 1:
        earlier = {d: f.filter(pl.col("snapshot_date") < dates[-1]) for d, f in frames.items()}
        first, cost = measured(lambda: link_households(earlier))
        report["first_run"] = _run_report(first, cost)
    second, cost = measured(lambda: link_households(frames, previous_state=first.state if first else None))
    report["run"] = _run_report(second, cost)
    report["records"] = second.record_link.height
    report["persons"] = second.person.height
    report["households"] = second.household.height
    report["quality"] = linkage_quality(second.mentions, truth)
    if first is not None:
        report["id_stability"] = id_stability(first.mentions, second.mentions, truth)
    report["review_queue"] = second.review_queue.height
    report["methods"] = dict(second.record_link.group_by("method").len().sort("method").iter_rows())
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--state", type=Path)
    parser.add_argument("--skip-ingest", action="store_true", help="the state already holds the landing's files")
    parser.add_argument("--json", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    if args.state:
        report = run(args.landing, args.state, args.skip_ingest)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            report = run(args.landing, Path(tmp))
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
