"""`Linker(settings).link(data)`: block, compare, train, score, cluster.

Dedupe one frame, or link several sources given as a mapping
`{source_name: frame}` (or one frame with the settings' `source_column`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from entity_resolution.blocking import BlockingResult, block
from entity_resolution.clustering import cluster
from entity_resolution.comparisons import add_comparison_codes, compare
from entity_resolution.estimation import Parameters, TrainingCounts, parameters_from_counts, training_counts
from entity_resolution.reconcile import reconcile_clusters
from entity_resolution.records import ID, prepare_records
from entity_resolution.scoring import score
from entity_resolution.settings import LinkageSettings
from entity_resolution.timing import StageClock

KeepPairs = Literal["all", "review", "link"]


@dataclass
class LinkResult:
    pairs: pl.DataFrame  # keys _l/_r, match_key, gamma_*, weight_*, match_weight, match_probability, method, decision
    clusters: pl.DataFrame  # keys, cluster_id, cluster_size, method, match_weight
    blocking_report: pl.DataFrame
    parameters: pl.DataFrame  # comparison, level, label, m/u probabilities, match_weight
    cut_edges: pl.DataFrame  # linked pairs that constraints or the chain guard kept apart, with the reason
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per stage
    model: Parameters | None = None
    cpu_timings: dict[str, float] = field(default_factory=dict)  # CPU seconds (all threads) per stage

    def review_pairs(self) -> pl.DataFrame:
        return self.pairs.filter(pl.col("decision") == "review").sort("match_weight", descending=True)


@dataclass
class Candidates:
    """Prepared records and their compared candidate pairs, before training and scoring."""

    records: pl.DataFrame
    blocking: BlockingResult
    pairs: pl.DataFrame  # id_l, id_r, match_key, gamma_*
    settings: LinkageSettings
    clock: StageClock = field(default_factory=StageClock)

    def training_counts(self) -> TrainingCounts:
        return training_counts(self.pairs, self.blocking, self.settings)


class Linker:
    def __init__(self, settings: LinkageSettings | Mapping | str | Path):
        if isinstance(settings, (str, Path)):
            settings = LinkageSettings.from_yaml(settings)
        elif not isinstance(settings, LinkageSettings):
            settings = LinkageSettings.model_validate(dict(settings))
        self.settings = settings

    def link(
        self,
        data: pl.DataFrame | Mapping[str, pl.DataFrame],
        keep_pairs: KeepPairs = "all",
        parameters: Parameters | None = None,
    ) -> LinkResult:
        """Link `data`. `parameters` from an earlier run skip training; `keep_pairs` trims the pairs returned."""
        candidates = self.candidates(data)
        if parameters is None:
            with candidates.clock.stage("train"):
                parameters = self.train(candidates.records, [candidates.training_counts()])
        return self.reconcile(self.finish(candidates, parameters, keep_pairs), candidates.records)

    # The three steps of `link`, for linking partitions apart (entity_resolution.partitioned):
    # candidates per partition, one training over the counts of all of them, finish per partition.

    def candidates(self, data: pl.DataFrame | Mapping[str, pl.DataFrame]) -> Candidates:
        """Prepare, block and compare."""
        settings = self.settings
        clock = StageClock()
        with clock.stage("prepare"):
            records = self.prepare(data)
        with clock.stage("block"):
            blocking = block(records, settings)
        with clock.stage("compare"):
            pairs = compare(records, blocking.pairs, settings.comparisons)
        return Candidates(records, blocking, pairs, settings, clock)

    def prepare(self, data: pl.DataFrame | Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        return add_comparison_codes(prepare_records(self._combine(data), self.settings), self.settings.comparisons)

    def train(self, records: pl.DataFrame, counts: list[TrainingCounts]) -> Parameters:
        """Parameters from every partition's counts; `records` are all records (`prepare` of all the data)."""
        return parameters_from_counts(records, TrainingCounts.merge(counts), self.settings)

    def finish(self, candidates: Candidates, parameters: Parameters, keep_pairs: KeepPairs = "all") -> LinkResult:
        """Score and cluster the candidate pairs."""
        settings = self.settings
        records, blocking, pairs = candidates.records, candidates.blocking, candidates.pairs
        clock = candidates.clock
        stage = clock.stage
        with stage("score"):
            scored = score(pairs, records, parameters, settings, blocking)
        with stage("cluster"):
            clustered = cluster(records, scored, settings)
        with stage("output"):
            result = LinkResult(
                pairs=self._pairs_output(scored, records, blocking.rule_names, keep_pairs),
                clusters=self._clusters_output(clustered.assignments, records),
                blocking_report=blocking.report,
                parameters=parameters.frame(),
                cut_edges=self._with_keys(clustered.cut_edges, records),
                model=parameters,
            )
        result.timings = clock.with_total(clock.wall)
        result.cpu_timings = clock.with_total(clock.cpu)
        return result

    def reconcile(self, result: LinkResult, records: pl.DataFrame) -> LinkResult:
        """Join clusters of different partitions (``across_partitions`` rules); `records` are all records."""
        if not self.settings.partition_column:
            return result
        clusters, edges = reconcile_clusters(result.clusters, records, self.settings)
        if not edges.height:
            return result
        method = {r.name: r.method for r in self.settings.deterministic_rules}
        joined = self._with_keys(edges, records).with_columns(
            match_key=pl.col("rule"), method=pl.col("rule").replace_strict(method), decision=pl.lit("link")
        ).drop("rule")
        result.clusters = clusters
        result.pairs = pl.concat([result.pairs, joined], how="diagonal_relaxed")
        return result

    def _combine(self, data: pl.DataFrame | Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        if isinstance(data, pl.DataFrame):
            return data
        source = self.settings.source_column
        if not source:
            raise ValueError("linking several frames needs source_column in the settings")
        return pl.concat(
            [frame.with_columns(pl.lit(name).alias(source)) for name, frame in data.items()],
            how="diagonal_relaxed",
        )

    def _with_keys(self, frame: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
        keys = self.settings.key_columns
        return frame.with_columns(
            *[records[k].gather(frame["id_l"]).alias(f"{k}_l") for k in keys],
            *[records[k].gather(frame["id_r"]).alias(f"{k}_r") for k in keys],
        ).select(
            *[f"{k}_l" for k in keys],
            *[f"{k}_r" for k in keys],
            pl.exclude("id_l", "id_r", *[f"{k}_l" for k in keys], *[f"{k}_r" for k in keys]),
        )

    def _pairs_output(
        self, scored: pl.DataFrame, records: pl.DataFrame, rule_names: list[str], keep: KeepPairs
    ) -> pl.DataFrame:
        if keep == "review":
            scored = scored.filter(pl.col("decision") != "no_link")
        elif keep == "link":
            scored = scored.filter(pl.col("decision") == "link")
        scored = scored.with_columns(
            pl.col("match_key").replace_strict(list(range(len(rule_names))), rule_names, return_dtype=pl.String)
        )
        return self._with_keys(scored, records)

    def _clusters_output(self, assignments: pl.DataFrame, records: pl.DataFrame) -> pl.DataFrame:
        keys = self.settings.key_columns
        return (
            assignments.with_columns(
                pl.col("cluster").rank("dense").cast(pl.UInt32).sub(1).alias("cluster_id"),
                pl.len().over("cluster").cast(pl.UInt32).alias("cluster_size"),
            )
            .join(records.select(ID, *keys), on=ID)
            .sort(ID)
            .select(*keys, "cluster_id", "cluster_size", "method", "match_weight")
        )
