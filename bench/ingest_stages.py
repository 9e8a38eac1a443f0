"""Where one file's ingestion time goes, stage by stage, beside a plain read and the least possible ingestion.

    python -m bench.ingest_stages FILE DEPARTMENT [--repeat 5]

Each figure is the least wall time of ``--repeat`` runs, with the CPU time of
that run beside it and its multiple of the plain read. The stages are timed
one by one on the same file (``validate`` includes the normalisation; the
fields below it are each normalised alone, so they add up to more than the
normalisation of all of them in one query, which polars spreads over the
cores). ``docs/ingestion-performance.md`` reads the figures.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

from bench.phases import ingestion_floor, plain_read
from schemas.columns import Kind
from schemas.departments import columns
from schemas.validate import FileMeta, ROW_NUMBER, _fields, _normalise_fields, _reference, validate
from sources.ingest import _canonical_frame, ingest_file
from sources.landing import parse_file_name
from sources.readers import read_table_bytes
from sources.registry import StateDir, file_id_of, write_parquet_atomic


def best(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Least wall seconds of ``repeat`` calls, and the CPU seconds of that call."""
    runs = []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        call()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(runs)


def stages(path: Path, department: str, repeat: int, work: Path) -> list[tuple[str, tuple[float, float]]]:
    data = path.read_bytes()
    county, _ = parse_file_name(path.name)
    table = read_table_bytes(data, path.name)
    frame = _canonical_frame(table, department)
    meta = FileMeta(file_id="bench", file_name=path.name, snapshot_date=date(2026, 1, 1), county_from_name=county)
    validated = validate(frame, department, meta, raw=table.frame)
    specs = columns(department)
    address = next((s.name for s in specs if s.kind == Kind.ADDRESS), None)
    rows = frame.select(ROW_NUMBER, *(pl.col(s.name).cast(pl.String) if s.name in frame.columns
                                      else pl.lit(None, dtype=pl.String).alias(s.name) for s in specs))

    def whole() -> None:
        folder = work / "whole"
        shutil.rmtree(folder, ignore_errors=True)
        landed = folder / "landing" / department / path.name
        landed.parent.mkdir(parents=True)
        shutil.copyfile(path, landed)
        ingest_file(landed, department, StateDir(folder / "state"))

    def field(spec) -> Callable[[], object]:
        plan = _fields((spec,), address)
        return lambda: _normalise_fields(rows, plan, lambda s: _reference(department, s.name, county))

    figures = [
        ("plain read (polars, every column as text)", best(lambda: plain_read(path), repeat)),
        ("least possible: read, hash, parse, write once", best(lambda: ingestion_floor(path, work / "floor.parquet"),
                                                              repeat)),
        ("  the same, writing the text twice", best(lambda: ingestion_floor(path, work / "floor2.parquet", copies=2),
                                                    repeat)),
        ("whole ingestion (ingest_file, fresh state)", best(whole, repeat)),
        ("  SHA-256 of the bytes (the registry's key)", best(lambda: file_id_of(data), repeat)),
        ("  read: encoding, header row, parse", best(lambda: read_table_bytes(data, path.name), repeat)),
        ("  validate: hard rules, normalisation, flags", best(lambda: validate(frame, department, meta, raw=table.frame),
                                                             repeat)),
        ("  write the accepted rows", best(lambda: write_parquet_atomic(validated.accepted, work / "a.parquet"), repeat)),
    ]
    figures += [(f"    normalise {s.name} ({s.kind.value}) alone", best(field(s), repeat)) for s in specs]
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_stages", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("department")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hearth-stages-") as tmp:
        figures = stages(args.file, args.department, args.repeat, Path(tmp))
    plain = figures[0][1][0]
    print(f"{args.file.name}: {args.file.stat().st_size / 1e6:.1f} MB, least of {args.repeat}")
    print(f"{'':52s} {'wall ms':>8s} {'CPU ms':>8s} {'x plain':>8s}")
    for label, (wall, cpu) in figures:
        print(f"{label:52s} {wall * 1000:8.1f} {cpu * 1000:8.1f} {wall / plain:8.2f}")


if __name__ == "__main__":
    main()
