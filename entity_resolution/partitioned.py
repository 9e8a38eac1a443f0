"""Linking partition by partition (e.g. county by county), in parallel, with
exactly the result of one run over everything.

With ``partition_column`` set, no candidate pair crosses partitions, so:

1. ``candidates`` (block + compare) runs per partition, in parallel;
2. training runs once, on the summed counts of every partition's pairs
   (``estimation.TrainingCounts``) and on all records (u sample, prior, term
   frequencies);
3. ``finish`` (score + cluster) runs per partition with those parameters;
4. the partitions' clusters are combined and joined across partitions by the
   ``across_partitions`` rules (``reconcile.py``).

``Linker.link`` does steps 1-4 in one go over all the data; this module does
them partition by partition, in worker processes or (``save_candidates`` /
``load_candidates``) in separate orchestrator steps.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl

from entity_resolution.blocking import BlockingResult
from entity_resolution.estimation import Parameters, TrainingCounts
from entity_resolution.linker import Candidates, KeepPairs, Linker, LinkResult
from entity_resolution.records import ID
from entity_resolution.settings import LinkageSettings
from entity_resolution.timing import StageClock

NULL_PARTITION = "__none__"
_SUMMED = ["records_blocked", "blocks", "oversize_blocks", "oversize_records", "split_blocks",
           "sampled_blocks", "skipped_blocks", "pairs_produced", "new_pairs"]


def split_partitions(data: pl.DataFrame, settings: LinkageSettings) -> dict[str, pl.DataFrame]:
    """Partition value (text; a missing value is a partition of its own) -> its rows, in input order."""
    column = settings.partition_column
    if not column:
        raise ValueError("settings have no partition_column")
    keyed = data.with_columns(
        pl.col(column).cast(pl.String).fill_null(NULL_PARTITION).alias("__partition")
    )
    parts = keyed.partition_by("__partition", as_dict=True, maintain_order=True)
    return {key[0]: parts[key].drop("__partition") for key in sorted(parts)}


def save_candidates(candidates: Candidates, folder: Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    blocking = candidates.blocking
    codes = [blocking.rule_codes[name].alias(f"__rule_{i}") for i, name in enumerate(blocking.rule_names)]
    candidates.records.with_columns(codes).write_parquet(folder / "records.parquet")
    candidates.pairs.write_parquet(folder / "pairs.parquet")
    blocking.report.write_parquet(folder / "blocking_report.parquet")
    meta = {"rule_names": blocking.rule_names, "wall": candidates.clock.wall, "cpu": candidates.clock.cpu}
    (folder / "candidates.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def load_candidates(folder: Path, settings: LinkageSettings) -> Candidates:
    folder = Path(folder)
    meta = json.loads((folder / "candidates.json").read_text(encoding="utf-8"))
    names = meta["rule_names"]
    stored = pl.read_parquet(folder / "records.parquet")
    code_columns = [f"__rule_{i}" for i in range(len(names))]
    pairs = pl.read_parquet(folder / "pairs.parquet")
    blocking = BlockingResult(
        pairs=pairs.select("id_l", "id_r", "match_key"),
        report=pl.read_parquet(folder / "blocking_report.parquet"),
        rule_names=names,
        rule_codes={name: stored[column].alias("block") for name, column in zip(names, code_columns)},
    )
    clock = StageClock()
    for stage, wall in meta["wall"].items():
        clock.add(stage, wall, meta["cpu"].get(stage, 0.0))
    return Candidates(stored.drop(code_columns), blocking, pairs, settings, clock)


def combine(
    results: list[LinkResult], records: pl.DataFrame, settings: LinkageSettings, parameters: Parameters
) -> LinkResult:
    """One result from the partitions' results, numbered as a run over all of ``records`` numbers it."""
    keys = settings.key_columns
    pair_order = [f"{k}_l" for k in keys] + [f"{k}_r" for k in keys]
    clusters = (
        pl.concat([r.clusters.with_columns(__part=pl.lit(i, pl.UInt32)) for i, r in enumerate(results)])
        .join(records.select(ID, *keys), on=keys, how="left", nulls_equal=True)
        .with_columns(__label=pl.col(ID).min().over("__part", "cluster_id"))
        .with_columns(cluster_id=pl.col("__label").rank("dense").cast(pl.UInt32).sub(1))
        .sort(ID)
    )
    report = pl.concat([r.blocking_report for r in results])
    rules = report.select("rule", "kind", "keys").unique(maintain_order=True)
    combined_report = rules.join(
        report.group_by("rule").agg(
            *[pl.col(c).sum() for c in _SUMMED],
            pl.col("largest_raw_block").max(),
            pl.col("largest_block").max(),
            action=pl.col("action").filter(pl.col("action") != "none").first().fill_null("none"),
        ),
        on="rule",
    ).select(results[0].blocking_report.columns)
    timings: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for r in results:
        for stage, value in r.timings.items():
            timings[stage] = round(timings.get(stage, 0.0) + value, 3)
        for stage, value in r.cpu_timings.items():
            cpu[stage] = round(cpu.get(stage, 0.0) + value, 3)
    return LinkResult(
        pairs=pl.concat([r.pairs for r in results], how="diagonal_relaxed").sort(pair_order),
        clusters=clusters.select(results[0].clusters.columns),
        blocking_report=combined_report,
        parameters=parameters.frame(),
        cut_edges=pl.concat([r.cut_edges for r in results], how="diagonal_relaxed").sort(pair_order),
        timings=timings,
        model=parameters,
        cpu_timings=cpu,
    )


def link_partitioned(
    linker: Linker,
    data: pl.DataFrame,
    keep_pairs: KeepPairs = "all",
    parameters: Parameters | None = None,
    workers: int = 1,
) -> LinkResult:
    """``linker.link(data)``, computed partition by partition (``workers`` processes at once).

    ``timings`` of the result are the partitions' stage times added up; the
    elapsed time of each step is in ``timings["elapsed_<step>"]``.
    """
    settings = linker.settings
    parts = split_partitions(data, settings)
    elapsed: dict[str, float] = {}
    started = time.perf_counter()
    records = linker.prepare(data)
    if workers <= 1 or len(parts) <= 1:
        candidates = [linker.candidates(part) for part in parts.values()]
        elapsed["elapsed_candidates"] = time.perf_counter() - started
        mark = time.perf_counter()
        parameters = parameters or linker.train(records, [c.training_counts() for c in candidates])
        elapsed["elapsed_train"] = time.perf_counter() - mark
        mark = time.perf_counter()
        results = [linker.finish(c, parameters, keep_pairs) for c in candidates]
        elapsed["elapsed_finish"] = time.perf_counter() - mark
    else:
        # spawn, not fork: polars' thread pool does not survive a fork
        context = multiprocessing.get_context("spawn")
        with tempfile.TemporaryDirectory(prefix="hearth-partitions-") as scratch, \
                ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            folders = [Path(scratch) / str(i) for i in range(len(parts))]
            counts = list(pool.map(_candidates_job, [settings] * len(parts), parts.values(), folders))
            elapsed["elapsed_candidates"] = time.perf_counter() - started
            mark = time.perf_counter()
            parameters = parameters or linker.train(records, counts)
            elapsed["elapsed_train"] = time.perf_counter() - mark
            mark = time.perf_counter()
            results = list(pool.map(_finish_job, [settings] * len(parts), folders,
                                    [parameters] * len(parts), [keep_pairs] * len(parts)))
            elapsed["elapsed_finish"] = time.perf_counter() - mark
    mark = time.perf_counter()
    result = linker.reconcile(combine(results, records, settings, parameters), records)
    elapsed["elapsed_combine"] = time.perf_counter() - mark
    result.timings.update({k: round(v, 3) for k, v in elapsed.items()})
    result.timings["train"] = result.cpu_timings["train"] = round(elapsed["elapsed_train"], 3)
    return result


def _candidates_job(settings: LinkageSettings, part: pl.DataFrame, folder: Path) -> TrainingCounts:
    candidates = Linker(settings).candidates(part)
    save_candidates(candidates, folder)
    return candidates.training_counts()


def _finish_job(settings: LinkageSettings, folder: Path, parameters: Parameters, keep_pairs: KeepPairs) -> LinkResult:
    return Linker(settings).finish(load_candidates(folder, settings), parameters, keep_pairs)
