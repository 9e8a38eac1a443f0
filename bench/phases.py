"""The measured phases, each run in its own process: ``python -m bench.phases PHASE PARAMS.json RESULT.json``.

A phase measures its operation in-process (wall and CPU seconds, RSS sampled
through it) and writes a JSON result; the parent adds the process's own
rusage (peak RSS, CPU) from ``os.wait4``. Imports happen before the clock
starts, so an operation's seconds are the work, not Python's start-up.
"""

from __future__ import annotations

import inspect
import json
import sys
import tempfile
import time
from pathlib import Path

DEPARTMENTS = ("education", "health", "housing", "water", "civil_affairs")
#: Order in which ``link_households`` runs its stages; its ``timings`` are durations, not instants.
LINKAGE_STAGES = ("normalise", "block", "compare", "score", "cluster", "households", "outputs")


def landed_files(landing: Path) -> list[tuple[str, Path]]:
    """``(department, path)`` of every data file: names starting with ``_`` or ``.`` are never data."""
    found = []
    for department in DEPARTMENTS:
        folder = landing / department
        if folder.is_dir():
            found += [(department, p) for p in sorted(folder.iterdir())
                      if p.is_file() and not p.name.startswith(("_", "."))]
    return found


def file_format(path: Path) -> str:
    return path.suffix.lower().lstrip(".") or "none"


def by_format(rows: list[dict], *fields: str) -> dict[str, dict]:
    """Sum ``fields`` (and count files) per file format, plus ``all`` over every format."""
    totals: dict[str, dict] = {}
    for row in rows:
        for key in (row["format"], "all"):
            entry = totals.setdefault(key, {"files": 0} | {f: 0 for f in fields})
            entry["files"] += 1
            for f in fields:
                entry[f] += row.get(f) or 0
    return {k: {f: round(v, 3) if isinstance(v, float) else v for f, v in entry.items()}
            for k, entry in sorted(totals.items())}


def phase_synth(params: dict) -> dict:
    import synth

    from bench.sampling import Sampler

    with Sampler() as sampler:
        cpu0, t0 = time.process_time(), time.perf_counter()
        summary = synth.generate(Path(params["out"]), households=params["households"], seed=params["seed"])
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
            "peak_rss_mb": sampler.window(t0, t0 + seconds)["peak_rss_mb"],
            "households": summary.households, "persons": summary.persons, "files": len(summary.files),
            "rows": summary.rows, "rows_total": sum(summary.rows.values()),
            "defects": sum(summary.defects.values()), "generator_seconds": summary.seconds}


def plain_read(path: Path | bytes, kind: str | None = None):
    """What reading the file costs with no Hearth logic: the baseline ingestion is compared to."""
    import io

    import polars as pl

    kind = kind or file_format(path)
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    if kind == "csv":
        # utf8-lossy: GB18030 files would otherwise stop a strict UTF-8 read; decoding is not the point here
        return pl.read_csv(source, infer_schema=False, encoding="utf8-lossy")
    if kind == "parquet":
        return pl.read_parquet(source)
    if kind in ("xlsx", "xls"):
        return pl.read_excel(source)
    raise ValueError(f"no plain reader for .{kind}")


def ingestion_floor(path: Path, out: Path, copies: int = 1) -> int:
    """The least any ingestion keeping Hearth's contract does with a file, as a yardstick for the 3x target.

    Its bytes read and hashed (the registry's key), every column parsed as text
    (the plain read, from those bytes), and the rows written by the writer of
    the accepted files. No header search, no validation, no normalisation, and
    by default the text written once, where the contract keeps the value as read
    beside the normalised one (``copies=2``): a strict lower bound. Returns the
    rows written.
    """
    import polars as pl

    from sources.registry import file_id_of, write_parquet_atomic

    data = path.read_bytes()
    file_id_of(data)
    frame = plain_read(data, file_format(path))
    write_parquet_atomic(pl.concat([frame.rename(lambda c, i=i: f"{c} ({i})") for i in range(copies)],
                                   how="horizontal") if copies > 1 else frame, out)
    return frame.height


def one_file_per_format(files: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """The smallest file of each format: enough to load every reader's libraries once."""
    smallest: dict[str, tuple[str, Path]] = {}
    for department, path in files:
        kind = file_format(path)
        if kind not in smallest or path.stat().st_size < smallest[kind][1].stat().st_size:
            smallest[kind] = (department, path)
    return list(smallest.values())


def phase_plain_read(params: dict) -> dict:
    files = landed_files(Path(params["landing"]))
    # The first read_excel loads its engine (seconds); ingestion is warmed up the same way, so the
    # ratio compares per-row costs, which is what decides it at county scale.
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as floor_out:
        for _, path in one_file_per_format(files):
            try:
                plain_read(path)
                ingestion_floor(path, Path(floor_out) / "warm-up.parquet")
            except Exception:
                pass
    warm_up_seconds = round(time.perf_counter() - t0, 3)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as floor_out:
        for department, path in files:
            row = {"department": department, "file": path.name, "format": file_format(path),
                   "bytes": path.stat().st_size}
            cpu0, t0 = time.process_time(), time.perf_counter()
            try:
                frame = plain_read(path)
                row["rows"] = frame.height
            except Exception as error:  # a file polars cannot read plainly is reported, not fatal
                row["error"] = f"{type(error).__name__}: {error}"[:300]
            row["seconds"], row["cpu_seconds"] = time.perf_counter() - t0, time.process_time() - cpu0
            if "error" not in row:
                # Right after the plain read of the same file, so that both see the same machine
                cpu0, t0 = time.process_time(), time.perf_counter()
                ingestion_floor(path, Path(floor_out) / f"{len(rows)}.parquet")
                row["floor_seconds"], row["floor_cpu_seconds"] = time.perf_counter() - t0, time.process_time() - cpu0
            rows.append(row)
    return {"by_format": by_format(rows, "rows", "bytes", "seconds", "cpu_seconds", "floor_seconds",
                                   "floor_cpu_seconds"),
            "warm_up_seconds": warm_up_seconds, "errors": [r for r in rows if "error" in r], "files": rows}


def phase_ingest(params: dict) -> dict:
    from bench.sampling import Sampler
    from pipelines.ingest import sweep
    from pipelines.settings import HearthSettings
    from sources.registry import StateDir

    landing, state = Path(params["landing"]), StateDir(Path(params["state"]))
    # As a run ingests: the five departments one after the other, each department's files side by side
    workers = params.get("ingest_workers", HearthSettings.from_env().ingest_workers) or None
    warm_up_seconds = warm_up_ingestion(landing)
    with Sampler() as sampler:
        cpu0, t0 = time.process_time(), time.perf_counter()
        sweeps = [sweep.sweep_department(landing, d, state, quiet_seconds=0.0, workers=workers) for d in DEPARTMENTS]
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    # Per file: wall and CPU of the process that ingested it (helpers' CPU is not in ``cpu`` above)
    rows = []
    for result in (r for s in sweeps for r in s.results):
        path = landing / result.department / result.file_name
        rows.append({"department": result.department, "file": path.name, "format": file_format(path),
                     "bytes": path.stat().st_size, "status": result.status, "rows": result.rows_read,
                     "rows_accepted": result.rows_accepted, "rows_quarantined": result.rows_quarantined,
                     "blank_rows": result.blank_rows, "seconds": result.seconds, "cpu_seconds": result.cpu_seconds})
    totals = by_format(rows, "rows", "rows_accepted", "rows_quarantined", "blank_rows", "bytes",
                       "seconds", "cpu_seconds")
    rows_read = totals.get("all", {}).get("rows", 0)
    return {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
            "workers": workers or default_workers(),
            "peak_rss_mb": sampler.window(t0, t0 + seconds)["peak_rss_mb"],
            "warm_up_seconds": warm_up_seconds, "per_file_cost": per_file_cost(rows),
            "rows_read": rows_read, "rows_per_second": round(rows_read / seconds) if seconds else None,
            "by_format": totals,
            "waiting_files": sum(len(s.waiting) for s in sweeps), "refused_files": sum(len(s.refused) for s in sweeps),
            "statuses": {s: sum(1 for r in rows if r["status"] == s) for s in sorted({r["status"] for r in rows})},
            "files": rows}


def per_file_cost(rows: list[dict]) -> dict | None:
    """Least-squares ``cpu_seconds = fixed + per_row * rows`` over the ingested files.

    On a small drop the fixed cost per file dominates and the ratio to a plain
    read says little about a county; these two numbers say what it will be.
    """
    import numpy as np

    points = [(r["rows"], r["cpu_seconds"]) for r in rows if r["status"] == "ingested"]
    if len({n for n, _ in points}) < 2:
        return None
    per_row, fixed = np.polyfit([n for n, _ in points], [c for _, c in points], 1)
    return {"fixed_cpu_seconds_per_file": round(float(fixed), 4),
            "cpu_microseconds_per_row": round(float(per_row) * 1e6, 2), "files": len(points)}


def default_workers() -> int:
    from sources.batch import default_workers as workers

    return workers()


def warm_up_ingestion(landing: Path) -> float:
    """Ingest one small file per format into a throwaway state, so that one-off loading (readers,
    conversion dictionaries) is not charged to the first file measured; returns its seconds."""
    import shutil
    import tempfile

    from sources.ingest import ingest_file
    from sources.registry import StateDir

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-warm-up-") as tmp:
        for department, path in one_file_per_format(landed_files(landing)):
            copy = Path(tmp) / "landing" / department / path.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
            ingest_file(copy, department, StateDir(Path(tmp) / "state"))
    return round(time.perf_counter() - started, 3)


def household_bench_run():
    """``entity_resolution.household.bench.run`` when it exists and can reuse an ingested state, else None."""
    try:
        from entity_resolution.household import bench as household_bench
    except ImportError:
        return None, None
    run = getattr(household_bench, "run", None)
    if run is None or not {"landing", "state_dir", "skip_ingest"} <= set(inspect.signature(run).parameters):
        return None, None
    return household_bench, run


def stage_figures(call, sampler) -> dict[str, dict]:
    """Seconds per linkage stage with the CPU and peak RSS of its time window.

    Stages are contiguous in ``LINKAGE_STAGES`` order, so each window starts
    where the previous one ended; the few untimed statements between stages
    make later windows drift by milliseconds, which 50 ms sampling cannot see.
    """
    timings = dict(call.result.timings)
    figures, start = {}, call.started
    for name in LINKAGE_STAGES:
        seconds = timings.get(name)
        if seconds is None:
            continue
        end = min(start + seconds, call.ended)
        figures[name] = {"seconds": round(seconds, 3)} | sampler.window(start, end)
        start = end
    return figures


def phase_linkage(params: dict) -> dict:
    from entity_resolution.household import pipeline
    from entity_resolution.household.inputs import load_frames

    from bench.sampling import Sampler, record_calls

    landing, state = Path(params["landing"]), Path(params["state"])
    has_truth = (landing / "_truth" / "records.parquet").exists()
    household_bench, run = household_bench_run() if has_truth else (None, None)
    report: dict = {}
    with Sampler() as sampler:
        if run is not None:
            # runs linkage on all snapshots but the last, then on all with the first run's IDs as baseline
            # (next month's run): the second call is the one measured; quality and ID stability come with it
            with record_calls(household_bench, "link_households") as calls:
                report = run(landing=landing, state_dir=state, skip_ingest=True)
            source = "entity_resolution.household.bench.run"
        else:
            frames = load_frames(state)
            with record_calls(pipeline, "link_households") as calls:
                pipeline.link_households(frames)
            source = "entity_resolution.household.pipeline.link_households"
    measured = calls[-1]
    result = measured.result
    figures = {
        "source": source, "seconds": round(measured.seconds, 3), "cpu_seconds": round(measured.cpu_seconds, 3),
        "peak_rss_mb": sampler.window(measured.started, measured.ended)["peak_rss_mb"],
        "stages": stage_figures(measured, sampler), "timings": dict(result.timings),
        "records": result.record_link.height, "mentions": result.mentions.height,
        "persons": result.person.height, "households": result.household.height,
        "review_queue": result.review_queue.height, "calls": len(calls),
    }
    if len(calls) > 1:
        figures["first_run"] = {"seconds": round(calls[0].seconds, 3), "cpu_seconds": round(calls[0].cpu_seconds, 3),
                                "records": calls[0].result.record_link.height}
    if has_truth:
        if "quality" in report:
            figures["quality"] = report["quality"]
            figures["id_stability"] = report.get("id_stability")
        else:
            figures["quality"] = linkage_quality(landing, result)
    return figures


def linkage_quality(landing: Path, result) -> dict | None:
    try:
        from entity_resolution.household.quality import linkage_quality as measure, load_truth
    except ImportError:
        return None
    return measure(result.mentions, load_truth(landing))


def phase_warehouse(params: dict) -> dict:
    import datetime as dt

    from pipelines.resources import HearthResource
    from pipelines.settings import HearthSettings
    from pipelines.warehouse.assets import warehouse_inputs
    from warehouse import privacy
    from warehouse.build import RunInfo, build_warehouse
    from warehouse.publish import publish, staging_path

    from bench.sampling import Sampler

    target = Path(params["warehouse"])
    settings = HearthSettings(state_dir=Path(params["state"]), warehouse_path=target, demo=True)
    key = privacy.load_key(demo=True, environ={})  # synthetic data: the fixed demo key, as `make demo` uses
    with Sampler() as sampler:
        cpu0, t0 = time.process_time(), time.perf_counter()
        from bench.harness import staged_linkage_folder

        staged = staged_linkage_folder(Path(params["state"]))
        run_id = None if staged is None or staged.name == "published" else staged.name
        built = build_warehouse(warehouse_inputs(HearthResource.from_settings(settings), run_id), staging_path(target),
                                RunInfo(run_id="bench", started_at=dt.datetime.now(), triggered_by="bench"),
                                key=key, demo=True)
        t1, cpu1 = time.perf_counter(), time.process_time()
        if built.ok:
            publish(built.path, target)
        t2, cpu2 = time.perf_counter(), time.process_time()
    failed = [f"{c.name} ({c.detail})" for c in built.failed()]
    return {"ok": built.ok, **({"error": "build checks failed: " + "; ".join(failed)} if failed else {}),
            "seconds": round(t2 - t0, 3), "cpu_seconds": round(cpu2 - cpu0, 3),
            "build_seconds": round(t1 - t0, 3), "build_cpu_seconds": round(cpu1 - cpu0, 3),
            "publish_seconds": round(t2 - t1, 3), "publish_cpu_seconds": round(cpu2 - cpu1, 3),
            "published": built.ok,
            "peak_rss_mb": sampler.window(t0, t2)["peak_rss_mb"], "build_timings": built.timings,
            "record_link_rows": built.counts.get("core.record_link"), "tables": len(built.counts),
            "bytes": target.stat().st_size if target.exists() else None}


def _timed(call):
    wall, cpu = time.perf_counter(), time.process_time()
    value = call()
    return value, round(time.perf_counter() - wall, 3), round(time.process_time() - cpu, 3)


def _dagster_linkage(state: Path, work: Path, max_concurrent: int) -> tuple[dict, dict[str, float], str]:
    """The linkage job (one step per county) under Dagster's multiprocess executor; per-step seconds."""
    import os
    import shutil

    import dagster as dg

    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(state, work / "state")
    (work / "dagster").mkdir()
    os.environ.update({"HEARTH_DATA_DIR": str(work), "HEARTH_STATE_DIR": str(work / "state"), "HEARTH_DEMO": "1"})
    from pipelines.definitions import linkage_job_definition

    with dg.instance_for_test(temp_dir=str(work / "dagster")) as instance:
        started = time.perf_counter()
        result = dg.execute_job(
            dg.reconstructable(linkage_job_definition), instance=instance,
            run_config={"execution": {"config": {"multiprocess": {"max_concurrent": max_concurrent}}}},
        )
        seconds = round(time.perf_counter() - started, 3)
        begun, steps = {}, {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None or not event.step_key:
                continue
            if event.event_type_value == "STEP_START":
                begun[event.step_key] = entry.timestamp
            elif event.event_type_value == "STEP_SUCCESS":
                steps[event.step_key.removeprefix("linkage__households.")] = round(
                    entry.timestamp - begun[event.step_key], 2)
    return {"ok": result.success, "seconds": seconds}, steps, result.run_id


def phase_counties(params: dict) -> dict:
    """The counties linked in parallel against one combined run: same record_link? how long?

    combined: ``link_households`` in one process, all counties in one pass.
    pool: the same, counties in 2 worker processes (``workers=2``).
    dagster: the linkage job, one step per county, multiprocess executor, 2 steps at once
    (every step is a fresh process that imports the code and reads its inputs from files).
    """
    from polars.testing import assert_frame_equal

    from entity_resolution.household.inputs import load_frames
    from entity_resolution.household.pipeline import LinkageState, link_households
    from pipelines.staging import LinkageStaging

    state, work = Path(params["state"]), Path(params["work"])
    frames = load_frames(state)
    previous = LinkageState.load(state)  # what the Dagster run keeps IDs against
    combined, combined_s, combined_cpu = _timed(lambda: link_households(frames, previous))
    pooled, pooled_s, _ = _timed(lambda: link_households(frames, previous, workers=2))
    dagster, steps, run_id = _dagster_linkage(state, work, 2)
    order = ["department", "record_id", "snapshot_date"]
    expected = combined.record_link.sort(order)

    def same(frame) -> bool:
        try:
            assert_frame_equal(frame.sort(order), expected)
            return True
        except AssertionError:
            return False

    staged = LinkageStaging(work / "state", run_id)
    return {
        "counties": sum(1 for step in steps if step.startswith("county_candidates[")),
        "records": expected.height,
        "combined_seconds": combined_s, "combined_cpu_seconds": combined_cpu,
        "combined_engine_seconds": round(sum(combined.engine_timings["wall"].get(k, 0.0) for k in
                                             ("prepare", "block", "compare", "train", "score", "cluster", "output")), 3),
        "pool_seconds": pooled_s,
        "pool_engine_seconds": {k: v for k, v in pooled.engine_timings["wall"].items() if k.startswith("elapsed_")},
        "pool_same_record_link": same(pooled.record_link),
        "dagster_ok": dagster["ok"], "dagster_seconds": dagster["seconds"], "dagster_steps": steps,
        "dagster_same_record_link": dagster["ok"] and same(staged.read("record_link")),
    }


PHASES = {"synth": phase_synth, "plain_read": phase_plain_read, "ingest": phase_ingest,
          "linkage": phase_linkage, "warehouse": phase_warehouse, "counties": phase_counties}


def main(argv: list[str] | None = None) -> None:
    phase, params_path, result_path = argv or sys.argv[1:]
    result = PHASES[phase](json.loads(Path(params_path).read_text()))
    Path(result_path).write_text(json.dumps(result, ensure_ascii=False, default=str, indent=1))


if __name__ == "__main__":
    main()
