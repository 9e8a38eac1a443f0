"""Declarative linkage settings: everything the engine does is described here as data.

A settings file says which columns identify a record, how candidate pairs are
generated (blocking rules), how a pair is compared (comparisons with ordered
levels), how parameters are trained, which pairs link outright (deterministic
rules), which clusters are impossible (constraints) and where the thresholds
are. Nothing in the engine knows about households, people or Chinese names:
that knowledge lives in a settings file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


BlockKeyTransform = Literal["value", "first_char", "prefix", "year", "lower"]


class BlockKey(_Strict):
    """One component of a blocking key: a column, optionally transformed.

    `first_char` = first character, `prefix` = first `n` characters,
    `year` = year of a date column, `lower` = lower-cased text.
    """

    column: str
    transform: BlockKeyTransform = "value"
    n: int | None = None

    @model_validator(mode="after")
    def _prefix_needs_n(self) -> BlockKey:
        if self.transform == "prefix" and not self.n:
            raise ValueError(f"block key on {self.column!r}: transform 'prefix' needs n")
        return self

    @property
    def label(self) -> str:
        if self.transform == "value":
            return self.column
        if self.transform == "prefix":
            return f"prefix({self.column},{self.n})"
        return f"{self.transform}({self.column})"


def _as_block_keys(value: object) -> object:
    if isinstance(value, list):
        return [BlockKey(column=v) if isinstance(v, str) else v for v in value]
    return value


OversizeAction = Literal["split", "sample", "skip"]


class BlockingRule(_Strict):
    """Records whose keys are all equal (and non-null) form a block; pairs within a block are candidates.

    A block larger than `max_block_size` is never compared in full. With
    `oversize: split` it is split by `split_keys` first; whatever is still
    too large is cut into deterministic pseudo-random chunks of at most
    `max_block_size` records (`sample`), so every record is still compared with
    some of its block. `skip` drops the block. All three are reported.
    """

    name: str
    keys: list[BlockKey]
    max_block_size: int = Field(default=2000, ge=2)
    oversize: OversizeAction = "split"
    split_keys: list[BlockKey] = Field(default_factory=list)

    _coerce_keys = field_validator("keys", "split_keys", mode="before")(_as_block_keys)

    @property
    def columns(self) -> set[str]:
        return {key.column for key in self.keys}


LevelType = Literal[
    "null",
    "exact",
    "exact_on_other_columns",
    "jaro_winkler",
    "levenshtein",
    "damerau",
    "id_one_digit_diff",
    "id_transposition",
    "date_swap_day_month",
    "date_within_days",
    "same_year",
    "else",
]


class ComparisonLevel(_Strict):
    """One level of a comparison; levels are tried in order and the first that holds wins.

    `columns` defaults to the comparison's column. `threshold` is the minimum
    Jaro-Winkler similarity; `distance` the maximum edit distance; `days` the
    maximum date difference. `m_probability`/`u_probability` fix the level's
    parameters (then they are not trained).
    """

    type: LevelType
    label: str | None = None
    columns: list[str] | None = None
    threshold: float | None = None
    distance: int | None = None
    days: int | None = None
    m_probability: float | None = None
    u_probability: float | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _one_column_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _parameters_present(self) -> ComparisonLevel:
        needs = {
            "jaro_winkler": "threshold",
            "levenshtein": "distance",
            "damerau": "distance",
            "date_within_days": "days",
            "exact_on_other_columns": "columns",
        }
        field = needs.get(self.type)
        if field and getattr(self, field) is None:
            raise ValueError(f"level {self.type!r} needs {field!r}")
        return self

    @property
    def is_null(self) -> bool:
        return self.type == "null"

    def display(self) -> str:
        if self.label:
            return self.label
        detail = {
            "jaro_winkler": f">= {self.threshold}",
            "levenshtein": f"<= {self.distance}",
            "damerau": f"<= {self.distance}",
            "date_within_days": f"<= {self.days}d",
        }.get(self.type, "")
        cols = f"({','.join(self.columns)})" if self.columns else ""
        return f"{self.type}{cols} {detail}".strip()


class Comparison(_Strict):
    """How one aspect of two records is compared; the output column holds the index of the level."""

    name: str
    column: str
    levels: list[ComparisonLevel]
    output_column: str | None = None
    term_frequency: bool = False
    tf_column: str | None = None
    # Splink's tf_minimum_u_value: a floor so a unique typo is not infinitely strong evidence.
    tf_minimum: float = 1e-6

    @model_validator(mode="after")
    def _levels_well_formed(self) -> Comparison:
        if not self.levels or self.levels[-1].type != "else":
            raise ValueError(f"comparison {self.name!r}: the last level must be 'else'")
        if any(level.type == "else" for level in self.levels[:-1]):
            raise ValueError(f"comparison {self.name!r}: 'else' only as the last level")
        if len(self.levels) > 120:
            raise ValueError(f"comparison {self.name!r}: too many levels")
        return self

    @property
    def gamma_column(self) -> str:
        return self.output_column or f"gamma_{self.name}"

    @property
    def weight_column(self) -> str:
        return f"weight_{self.name}"

    @property
    def tf_source_column(self) -> str:
        return self.tf_column or self.column

    def level_columns(self, level: ComparisonLevel) -> list[str]:
        return level.columns or [self.column]

    @property
    def columns(self) -> list[str]:
        seen: dict[str, None] = {self.column: None}
        for level in self.levels:
            for column in level.columns or []:
                seen[column] = None
        if self.term_frequency:
            seen[self.tf_source_column] = None
        return list(seen)

    def tf_level_indexes(self) -> list[int]:
        """Levels whose agreement weight is term-frequency adjusted: exact agreement on the TF column."""
        if not self.term_frequency:
            return []
        return [
            i
            for i, level in enumerate(self.levels)
            if level.type in ("exact", "exact_on_other_columns")
            and self.level_columns(level) == [self.tf_source_column]
        ]


class Condition(_Strict):
    """`column` must be non-null and, when `in_` is given, one of those values."""

    column: str
    in_: list[str | int | bool] | None = Field(default=None, alias="in")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DeterministicRule(_Strict):
    """Pairs equal on all `columns`, with both sides meeting `where`, link regardless of weight."""

    name: str
    columns: list[str]
    method: str = "deterministic"
    where: list[Condition] = Field(default_factory=list)
    max_block_size: int = Field(default=500, ge=2)
    # With `partition_column`: also join clusters of DIFFERENT partitions that agree
    # on `columns` (e.g. a person who moved county, by valid ID number), after each
    # partition is clustered (entity_resolution/reconcile.py).
    across_partitions: bool = False


class CannotLink(_Strict):
    """Two records with different non-null values of `column` (each valid per `valid_column`) are never one entity."""

    column: str
    valid_column: str | None = None
    valid_values: list[str | int | bool] = Field(default_factory=lambda: [True])


class Thresholds(_Strict):
    link: float = 8.0
    review: float = 4.0

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review > self.link:
            raise ValueError("thresholds: review must be <= link")
        return self


class Training(_Strict):
    enabled: bool = True
    u_sample_pairs: int = Field(default=1_000_000, ge=100)
    em_max_iterations: int = Field(default=25, ge=1)
    em_convergence: float = 1e-4
    # EM on a handful of pairs overfits to certainty; below this many pairs a session is skipped.
    em_min_pairs: int = Field(default=200, ge=1)
    seed: int = 42
    # Seed m from pairs a deterministic rule links (e.g. same valid ID), whose m are nearly the truth.
    seed_m_from_deterministic: bool = True
    # Prior probability that two random records match; estimated from the candidate pairs when None.
    prior_match_probability: float | None = None
    # Probabilities are clipped so a level never seen cannot give infinite weight.
    min_probability: float = 1e-5


class Clustering(_Strict):
    """Guards against runaway chains beyond the hard constraints.

    With `chain_guard`, an edge weaker than `weak_edge_weight` (default:
    `thresholds.link + weak_edge_margin`) that is the only thing holding two
    groups of at least two records together (a bridge) is cut. A cluster of at
    least `density_min_size` records whose share of linked pairs is below
    `min_density` loses its weakest edges until it splits.
    """

    chain_guard: bool = True
    weak_edge_margin: float = 3.0
    weak_edge_weight: float | None = None
    min_density: float = Field(default=0.0, ge=0.0, le=1.0)
    density_min_size: int = Field(default=4, ge=3)


LinkType = Literal["dedupe_only", "link_only", "link_and_dedupe"]


class LinkageSettings(_Strict):
    unique_id_column: str
    source_column: str | None = None
    link_type: LinkType = "link_and_dedupe"
    blocking_rules: list[BlockingRule]
    comparisons: list[Comparison]
    thresholds: Thresholds = Thresholds()
    training: Training = Training()
    deterministic_rules: list[DeterministicRule] = Field(default_factory=list)
    cannot_link: list[CannotLink] = Field(default_factory=list)
    # No cluster holds two records of the same group (e.g. source, snapshot) unless exact duplicates.
    one_per_group: list[str] = Field(default_factory=list)
    # Columns on which two records must agree to count as exact duplicates; default: all comparison columns.
    duplicate_columns: list[str] | None = None
    clustering: Clustering = Clustering()
    # Candidate pairs never cross partitions (e.g. counties): every blocking and
    # deterministic rule is keyed on this column as well, a missing value being
    # a partition of its own. Linking partition by partition with the same
    # trained parameters then gives exactly the result of linking everything at
    # once, so partitions can run in parallel (``entity_resolution.partitioned``).
    partition_column: str | None = None

    @model_validator(mode="after")
    def _names_unique(self) -> LinkageSettings:
        for kind, names in (
            ("blocking rule", [r.name for r in self.blocking_rules]),
            ("comparison", [c.name for c in self.comparisons]),
            ("deterministic rule", [r.name for r in self.deterministic_rules]),
        ):
            if len(set(names)) != len(names):
                raise ValueError(f"{kind} names must be unique: {names}")
        if not self.blocking_rules and not self.deterministic_rules:
            raise ValueError("at least one blocking or deterministic rule is needed")
        if self.link_type == "link_only" and not self.source_column:
            raise ValueError("link_type link_only needs source_column")
        return self

    @classmethod
    def from_yaml(cls, path: str | Path) -> LinkageSettings:
        return cls.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_dict(cls, data: dict) -> LinkageSettings:
        return cls.model_validate(data)

    @property
    def key_columns(self) -> list[str]:
        """Columns that identify a record: (source, unique id) when sources are linked."""
        if self.source_column:
            return [self.source_column, self.unique_id_column]
        return [self.unique_id_column]

    @property
    def exact_duplicate_columns(self) -> list[str]:
        if self.duplicate_columns is not None:
            return self.duplicate_columns
        seen: dict[str, None] = {}
        for comparison in self.comparisons:
            for column in comparison.columns:
                seen[column] = None
        return list(seen)

    def required_columns(self) -> list[str]:
        columns: dict[str, None] = {c: None for c in self.key_columns}
        if self.partition_column:
            columns[self.partition_column] = None
        for rule in self.blocking_rules:
            for key in [*rule.keys, *rule.split_keys]:
                columns[key.column] = None
        for comparison in self.comparisons:
            for column in comparison.columns:
                columns[column] = None
        for rule in self.deterministic_rules:
            for column in rule.columns:
                columns[column] = None
            for condition in rule.where:
                columns[condition.column] = None
        for constraint in self.cannot_link:
            columns[constraint.column] = None
            if constraint.valid_column:
                columns[constraint.valid_column] = None
        for column in [*self.one_per_group, *self.exact_duplicate_columns]:
            columns[column] = None
        return list(columns)
