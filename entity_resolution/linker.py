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

from entity_resolution.blocking import block
from entity_resolution.clustering import cluster
from entity_resolution.comparisons import add_comparison_codes, compare
from entity_resolution.estimation import Parameters, estimate_parameters
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
        settings = self.settings
        clock = StageClock()
        stage = clock.stage

        with stage("prepare"):
            records = add_comparison_codes(prepare_records(self._combine(data), settings), settings.comparisons)
        with stage("block"):
            blocking = block(records, settings)
        with stage("compare"):
            pairs = compare(records, blocking.pairs, settings.comparisons)
        with stage("train"):
            if parameters is None:
                parameters = estimate_parameters(records, pairs, blocking, settings)
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
