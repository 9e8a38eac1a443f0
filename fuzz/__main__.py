"""Run the atheris targets, bounded: ``python -m fuzz [--runs N] [--seconds S] [--seed K] [TARGET ...]``.

Each target runs in its own process (atheris fuzzes once per process) for
``--runs`` inputs or ``--seconds``, whichever ends first, and the count of
inputs tried is printed per target. A crash leaves its input in
``fuzz/crashes/`` (kept out of git): fix the code, then move the input to
``fuzz/regressions/<target>/`` so that ``tests/fuzz/test_atheris_regressions.py``
replays it in every ``make test``. Exits 1 when any target found something.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fuzz.targets import TARGETS

HERE = Path(__file__).parent
CRASHES = HERE / "crashes"
#: longest input tried per target: a workbook needs room, a list of IDs does not.
MAX_LEN = {"csv": 16384, "xlsx": 32768, "parquet": 8192, "id_number": 4096, "dates": 4096, "names": 4096,
           "any": 32768}
_DONE = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
#: address space a target may take: libFuzzer's -rss_limit_mb notices a runaway allocation only after it
#: has filled memory shared with everyone else on the box (calamine once took 14 GB before it was seen).
MEMORY_LIMIT = 6 << 30


def limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_target(name: str, *, runs: int, seconds: int, seed: int, corpus: Path | None = None) -> dict:
    CRASHES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"hearth-fuzz-{name}-") as scratch:
        folder = corpus or Path(scratch) / "corpus"
        command = [sys.executable, "-m", "fuzz.run_target", name, f"-runs={runs}", f"-max_total_time={seconds}",
                   f"-seed={seed}", f"-max_len={MAX_LEN[name]}", "-timeout=60", "-rss_limit_mb=4096",
                   "-print_final_stats=1", f"-artifact_prefix={CRASHES}/{name}-", str(folder)]
        # One polars thread: the fuzzer runs one small input at a time and the box is shared.
        env = os.environ | {"POLARS_MAX_THREADS": "1", "PYTHONPATH": str(HERE.parent)}
        started = time.time()
        done = subprocess.run(command, env=env, capture_output=True, text=True, errors="replace",
                              preexec_fn=limit_memory)
        seconds_taken = time.time() - started
    executed = _DONE.search(done.stderr)
    return {"target": name, "runs": int(executed[1]) if executed else None, "seconds": round(seconds_taken, 1),
            "ok": done.returncode == 0, "output": done.stderr}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", default=list(TARGETS), help=f"any of {', '.join(TARGETS)}, any")
    parser.add_argument("--runs", type=int, default=20000, help="inputs per target (default 20000)")
    parser.add_argument("--seconds", type=int, default=300, help="time limit per target (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, help="keep each target's corpus in CORPUS/<target> between runs")
    args = parser.parse_args(argv)
    failed = False
    print(f"{'target':<10} {'inputs tried':>12} {'seconds':>8}  result", flush=True)
    for name in args.targets:
        result = run_target(name, runs=args.runs, seconds=args.seconds, seed=args.seed,
                            corpus=args.corpus / name if args.corpus else None)
        verdict = "ok" if result["ok"] else "FOUND SOMETHING"
        print(f"{name:<10} {result['runs'] if result['runs'] is not None else '?':>12} {result['seconds']:>8}  {verdict}",
              flush=True)
        if not result["ok"]:
            failed = True
            print("\n".join(result["output"].splitlines()[-40:]), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
