"""Run the benchmark: for each size, every phase in its own process; write JSON and Markdown.

    python -m bench [--sizes 25000,50000,100000] [--out bench/results.json] [--keep DIR]
                    [--phases synth,plain_read,ingest,linkage,e2e,warehouse] [--seed 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import report

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (25_000, 50_000, 100_000)
DEFAULT_OUT = REPO / "bench" / "results.json"
#: Run order; each phase needs the outputs of the ones it lists.
PHASES = {
    "synth": (),
    "plain_read": ("synth",),
    "ingest": ("synth",),
    "linkage": ("ingest",),
    # the counties linked in parallel against one combined run (same record_link, wall time)
    "counties": ("ingest",),
    "e2e": ("synth",),
    # built from the linkage outputs the end-to-end run staged, so linkage is not run a third time
    "warehouse": ("e2e",),
}
TARGETS = {
    "ingest_vs_plain_read_ratio": {"max": 3.0, "text": "ingestion within 3x a plain read"},
    "linkage_seconds": {"max": 60.0, "households": 100_000, "text": "linkage of 100k households within 60 s"},
    "linkage_peak_rss_mb": {"max": 6 * 1024, "households": 100_000, "text": "linkage peak memory < 6 GB"},
    "warehouse_seconds": {"max": 30.0, "households": 100_000, "text": "warehouse build + publish within 30 s"},
    "e2e_seconds": {"max": 120.0, "households": 100_000, "text": "end-to-end hearth run under 2 minutes"},
    "e2e_peak_rss_mb": {"max": 8 * 1024, "households": 100_000, "text": "end-to-end peak memory < 8 GB"},
}


def machine_info() -> dict:
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {"cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)), "memory_gb": memory_gb,
            "cpu_model": cpu_model, "platform": platform.platform(), "python": platform.python_version(),
            "load_average_start": [round(x, 2) for x in os.getloadavg()]}


def git_info() -> dict:
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    status = git("status", "--porcelain", "--untracked-files=no")
    # figures from a tree with uncommitted edits are not the commit's figures: say so
    return {"commit": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD"),
            "dirty": bool(status) if status is not None else None}


def run_process(command: list[str], log: Path, env: dict | None = None) -> dict:
    """Run ``command`` to completion; its wall time, CPU time and peak RSS from ``os.wait4``.

    ``wait4`` gives this one child's rusage (and that of the children it
    waited for), unlike ``getrusage(RUSAGE_CHILDREN)`` whose ``ru_maxrss`` is
    the largest of all children so far.
    """
    with log.open("ab") as out:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
                                 env=child_environment(env or {}))
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return {"exit_code": child.returncode, "wall_seconds": round(wall, 3),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            "user_seconds": round(usage.ru_utime, 3), "sys_seconds": round(usage.ru_stime, 3),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}  # Linux reports ru_maxrss in KiB


def child_environment(changes: dict[str, str | None]) -> dict[str, str]:
    """This environment with ``changes`` applied (``None`` removes a variable) and the repository importable."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def failure_lines(log: Path, tail: int = 40) -> str:
    """The lines of a log's tail that say what failed (a traceback's last line, failed checks and steps)."""
    try:
        lines = log.read_text(errors="replace").splitlines()[-tail:]
    except OSError:
        return ""
    telling = [line.strip() for line in lines
               if any(word in line for word in ("Error", "failed", "FAILED", "Exception"))]
    return "\n".join(telling or lines[-5:])


class SizeRun:
    """The phases of one size, sharing a work folder."""

    def __init__(self, households: int, work: Path, seed: int):
        self.households, self.work, self.seed = households, work, seed
        self.landing = work / "landing"
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    def phase(self, name: str) -> dict:
        if name == "e2e":
            return self.end_to_end()
        params = {
            "synth": {"out": str(self.landing), "households": self.households, "seed": self.seed},
            "plain_read": {"landing": str(self.landing)},
            "ingest": {"landing": str(self.landing), "state": str(self.work / "ingest_state")},
            "linkage": {"landing": str(self.landing), "state": str(self.work / "ingest_state")},
            "counties": {"state": str(self.work / "ingest_state"), "work": str(self.work / "counties")},
            "warehouse": {"state": str(self.work / "e2e" / "state"),
                          "warehouse": str(self.work / "warehouse_only" / "warehouse.duckdb")},
        }[name]
        params_path, result_path = self.work / f"{name}.params.json", self.work / f"{name}.result.json"
        params_path.write_text(json.dumps(params))
        result_path.unlink(missing_ok=True)
        log = self.logs / f"{name}.log"
        process = run_process([sys.executable, "-m", "bench.phases", name, str(params_path), str(result_path)], log)
        if process["exit_code"] != 0 or not result_path.exists():
            return {"ok": False, "process": process, "error": failure_lines(log)}
        return {"ok": True, "process": process, **json.loads(result_path.read_text())}

    def end_to_end(self) -> dict:
        """``hearth run`` on a fresh state and warehouse, as a user would type it."""
        folder = self.work / "e2e"
        shutil.rmtree(folder, ignore_errors=True)
        log = self.logs / "e2e.log"
        command = [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(self.landing),
                   "--warehouse", str(folder / "warehouse.duckdb"), "--state", str(folder / "state"),
                   "--quiet-seconds", "0"]
        # demo key for synthetic data; no DAGSTER_HOME, so the run uses a fresh ephemeral instance
        # COLUMNS: rich wraps at 80 columns in a log file, cutting failure messages in two
        env = {"HEARTH_DEMO": "1", "HEARTH_DATA_DIR": str(folder), "DAGSTER_HOME": None, "COLUMNS": "200"}
        process = run_process(command, log, env)
        # a run that failed a blocking check still timed every step and staged its linkage outputs
        figures = {"ok": process["exit_code"] == 0, "process": process, "seconds": process["wall_seconds"],
                   "cpu_seconds": process["cpu_seconds"], "peak_rss_mb": process["peak_rss_mb"],
                   "published": (folder / "warehouse.duckdb").exists(),
                   "staged_linkage": bool(staged_linkage_folder(folder / "state"))}
        if not figures["ok"]:
            figures["error"] = failure_lines(log)
        return figures


def staged_linkage_folder(state: Path) -> Path | None:
    """The linkage outputs a run left: the published ones, else the newest run's staging."""
    published = state / "linkage" / "published"
    if (published / "record_link.parquet").exists():
        return published
    runs = sorted((state / "linkage" / "runs").glob("*/record_link.parquet"), key=lambda p: p.stat().st_mtime)
    return runs[-1].parent if runs else None


def usable(phase: dict | None, name: str) -> bool:
    """Whether a later phase can build on this one's outputs."""
    if not phase:
        return False
    if name == "e2e":
        return bool(phase.get("staged_linkage"))
    return bool(phase.get("ok"))


def phases_with_prerequisites(wanted: list[str]) -> list[str]:
    needed: set[str] = set()

    def add(name: str) -> None:
        if name not in needed:
            needed.add(name)
            for before in PHASES[name]:
                add(before)

    for name in wanted:
        add(name)
    return [name for name in PHASES if name in needed]


def run_size(households: int, work: Path, seed: int, phases: list[str], on_phase) -> dict:
    size = SizeRun(households, work, seed)
    result: dict = {"households": households, "started": now_iso(), "phases": {}}
    for name in phases:
        missing = [p for p in PHASES[name] if not usable(result["phases"].get(p), p)]
        if missing:
            result["phases"][name] = {"ok": False, "skipped": f"needs {', '.join(missing)}"}
        else:
            print(f"[bench] {households:,} households: {name} …", file=sys.stderr, flush=True)
            result["phases"][name] = size.phase(name)
            process = result["phases"][name]["process"]
            print(f"[bench]   {name}: exit {process['exit_code']}, {process['wall_seconds']:.1f} s wall, "
                  f"{process['cpu_seconds']:.1f} s CPU, {process['peak_rss_mb']:.0f} MB peak",
                  file=sys.stderr, flush=True)
        result["summary"] = report.summarise(result, TARGETS)
        on_phase(result)
    result["finished"] = now_iso()
    return result


def now_iso() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def write_outputs(results: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    tmp.replace(out)
    out.with_suffix(".md").write_text(report.markdown(results))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Hearth benchmark suite.")
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="comma-separated household counts (default %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON result file; the .md sits beside it")
    parser.add_argument("--keep", type=Path, help="keep generated drops, states and logs in this folder")
    parser.add_argument("--phases", default=",".join(PHASES),
                        help="phases to run (their prerequisites are added); default: all")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--label", default="", help="free text stored with the results (e.g. 'validation run')")
    args = parser.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    unknown = set(args.phases.split(",")) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; known: {', '.join(PHASES)}")
    args.phases = phases_with_prerequisites(args.phases.split(","))
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    results = {"date": now_iso(), "label": args.label, "machine": machine_info(), "git": git_info(),
               "seed": args.seed, "sizes": args.sizes, "phases": args.phases, "targets": TARGETS, "runs": []}
    for households in args.sizes:
        if args.keep:
            work = args.keep / f"households-{households}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            cleanup = None
        else:
            cleanup = tempfile.TemporaryDirectory(prefix=f"hearth-bench-{households}-")
            work = Path(cleanup.name)
        try:
            results["runs"].append({})

            def save(run: dict) -> None:
                results["runs"][-1] = run
                write_outputs(results, args.out)

            run_size(households, work, args.seed, args.phases, save)
        finally:
            if cleanup is not None:
                cleanup.cleanup()
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["finished"] = now_iso()
    write_outputs(results, args.out)
    print(f"[bench] wrote {args.out} and {args.out.with_suffix('.md')}", file=sys.stderr)
    return results
