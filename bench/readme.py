"""Paste the benchmark table into README.md: ``python -m bench.readme [--results bench/results.json] [--readme README.md]``.

Only the text between ``<!-- bench:start -->`` and ``<!-- bench:end -->`` is
replaced; when the markers are missing, a ``## Benchmarks`` section holding
them is appended at the end, and nothing else in the file changes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import report
from bench.harness import DEFAULT_OUT, REPO

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SECTION = f"""## Benchmarks

`make bench` runs `python -m bench` at 25,000, 50,000 and 100,000 households
(`make bench-quick`: 25,000 only): synth, ingestion (beside a plain
`polars.read_csv` / `read_parquet` / `read_excel` of the same files), linkage
per stage, warehouse build + publish, and an end-to-end `hearth run` on a fresh
state, each phase in its own process for its peak memory and CPU time. It
writes `bench/results.json` and `bench/results.md`; `python -m bench.readme`
puts the table below. Use a quiet machine: the wall times move with load, the
CPU times much less.

{START}
{END}
"""


def replace_block(text: str, table: str) -> str:
    if START not in text or END not in text:
        text = text.rstrip("\n") + "\n\n" + SECTION
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{table.strip()}\n{END}{after}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.readme", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    args = parser.parse_args(argv)
    if not args.results.exists():
        sys.exit(f"{args.results} does not exist: run `python -m bench` first")
    table = report.markdown(json.loads(args.results.read_text()))
    args.readme.write_text(replace_block(args.readme.read_text(), table))
    print(f"updated the benchmark table in {args.readme}", file=sys.stderr)


if __name__ == "__main__":
    main()
