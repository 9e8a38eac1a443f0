"""Fellegi-Sunter parameters: u from random pairs, m by expectation-maximisation.

u (how often two records of DIFFERENT entities fall in a level) comes from a
seeded random sample of comparable pairs: nearly all random pairs are
non-matches. m (the same for records of the same entity) comes from EM over
the candidate pairs, which works on the distinct patterns of levels with
their counts, so an iteration costs milliseconds however many pairs there are.

Pairs found by a blocking rule all agree on the rule's columns, so within a
rule's pairs a comparison on those columns says nothing about matching. As in
Splink, EM runs once per blocking rule over the pairs satisfying it, with the
comparisons that share a column with the rule switched off; a comparison's m
is the mean over the sessions where it was on. A comparison switched off
everywhere keeps its starting m (seeded from deterministic pairs or default).

EM starts, when possible, from m measured on the pairs a deterministic rule
links (e.g. same valid ID): those are almost all true matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from entity_resolution.blocking import BlockingResult, rules_satisfied, total_comparable_pairs
from entity_resolution.comparisons import compare
from entity_resolution.records import dense_code
from entity_resolution.settings import Comparison, LinkageSettings
from entity_resolution.term_frequency import term_frequency_tables

MIN_SEED_PAIRS = 20


@dataclass
class Parameters:
    comparisons: list[Comparison]
    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float
    m_source: list[str] = field(default_factory=list)
    u_source: list[str] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    # comparison name -> ``value, tf`` over all records (term_frequency.py)
    tf_tables: dict[str, pl.DataFrame] = field(default_factory=dict)

    def log2_bayes_factors(self, index: int) -> np.ndarray:
        """Weight of each level of comparison `index`; a null level is neutral (weight 0)."""
        comparison = self.comparisons[index]
        weights = np.log2(self.m[index] / self.u[index])
        for level_index, level in enumerate(comparison.levels):
            if level.is_null:
                weights[level_index] = 0.0
        return weights

    @property
    def prior_weight(self) -> float:
        return float(np.log2(self.prior / (1 - self.prior)))

    def frame(self) -> pl.DataFrame:
        rows = []
        for index, comparison in enumerate(self.comparisons):
            weights = self.log2_bayes_factors(index)
            for level_index, level in enumerate(comparison.levels):
                rows.append(
                    {
                        "comparison": comparison.name,
                        "level": level_index,
                        "label": level.display(),
                        "m_probability": float(self.m[index][level_index]),
                        "u_probability": float(self.u[index][level_index]),
                        "match_weight": float(weights[level_index]),
                        "tf_adjusted": level_index in comparison.tf_level_indexes(),
                        "m_source": self.m_source[index] if self.m_source else "",
                        "u_source": self.u_source[index] if self.u_source else "",
                    }
                )
        return pl.DataFrame(rows)


def _null_mask(comparison: Comparison) -> np.ndarray:
    return np.array([level.is_null for level in comparison.levels])


def _normalise(counts: np.ndarray, null_mask: np.ndarray, floor: float) -> np.ndarray:
    """Probabilities over the non-null levels (null levels get 1, they never weigh)."""
    counts = np.where(null_mask, 0.0, counts.astype(float))
    total = counts.sum()
    if total <= 0:
        return np.where(null_mask, 1.0, 1.0 / max(1, (~null_mask).sum()))
    probabilities = np.clip(counts / total, floor, 1.0)
    probabilities = probabilities / probabilities[~null_mask].sum()
    return np.where(null_mask, 1.0, probabilities)


def default_m(comparison: Comparison) -> np.ndarray:
    """A neutral start: each level a quarter as likely as the one above it among matches."""
    null_mask = _null_mask(comparison)
    ranks = np.cumsum(~null_mask) - 1
    return _normalise(np.power(0.25, ranks), null_mask, 1e-6)


def random_pairs(records: pl.DataFrame, settings: LinkageSettings, n_pairs: int, seed: int) -> pl.DataFrame:
    n = records.height
    rng = np.random.default_rng(seed)
    n_pairs = int(min(n_pairs, max(1, total_comparable_pairs(records, settings))))
    source = dense_code(records, [settings.source_column]).to_numpy() if settings.link_type == "link_only" else None
    chunks: list[np.ndarray] = []
    kept = 0
    for _ in range(50):
        draw = int((n_pairs - kept) * 1.3) + 16
        left = rng.integers(0, n, size=draw)
        right = rng.integers(0, n, size=draw)
        ok = left != right
        if source is not None:
            ok &= source[left] != source[right]
        both = np.stack([np.minimum(left, right)[ok], np.maximum(left, right)[ok]], axis=1)
        chunks.append(both)
        kept += len(both)
        if kept >= n_pairs:
            break
    sampled = np.concatenate(chunks)[:n_pairs]
    return pl.DataFrame(
        {"id_l": sampled[:, 0].astype(np.uint32), "id_r": sampled[:, 1].astype(np.uint32)}
    )


def estimate_u(records: pl.DataFrame, settings: LinkageSettings) -> list[np.ndarray]:
    training = settings.training
    sample = compare(
        records,
        random_pairs(records, settings, training.u_sample_pairs, training.seed),
        settings.comparisons,
    )
    estimates = []
    for comparison in settings.comparisons:
        levels = len(comparison.levels)
        counts = np.bincount(sample[comparison.gamma_column].to_numpy(), minlength=levels).astype(float)
        # A level never seen among random pairs is rare, not impossible: count it as half a pair.
        counts = np.where(counts == 0, 0.5, counts)
        estimates.append(_normalise(counts, _null_mask(comparison), training.min_probability))
    return estimates


def level_patterns(pairs: pl.DataFrame, comparisons: list[Comparison]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct combinations of levels (rows, sorted) and how many pairs have each.

    Levels are packed mixed-radix into one integer per pair and counted with bincount.
    """
    radices = [len(c.levels) for c in comparisons]
    cells = int(np.prod(radices)) if radices else 1
    if not pairs.height:
        return np.zeros((0, len(comparisons)), dtype=np.int64), np.zeros(0)
    if cells > 50_000_000:
        columns = [c.gamma_column for c in comparisons]
        patterns = pairs.group_by(columns).len().sort(columns)
        return patterns.select(columns).to_numpy().astype(np.int64), patterns["len"].to_numpy().astype(float)
    packed = np.zeros(pairs.height, dtype=np.int64)
    for comparison, radix in zip(comparisons, radices):
        packed = packed * radix + pairs[comparison.gamma_column].to_numpy().astype(np.int64)
    counts = np.bincount(packed, minlength=cells)
    present = np.flatnonzero(counts)
    patterns = np.zeros((len(present), len(comparisons)), dtype=np.int64)
    rest = present.copy()
    for index in range(len(comparisons) - 1, -1, -1):
        patterns[:, index] = rest % radices[index]
        rest //= radices[index]
    return patterns, counts[present].astype(float)


def expectation_maximisation(
    patterns: np.ndarray,
    counts: np.ndarray,
    comparisons: list[Comparison],
    active: list[bool],
    m_start: list[np.ndarray],
    u: list[np.ndarray],
    lambda_start: float,
    max_iterations: int,
    tolerance: float,
    floor: float,
    update_m: bool = True,
) -> tuple[list[np.ndarray], float, int]:
    m = [x.copy() for x in m_start]
    share = float(np.clip(lambda_start, 1e-6, 1 - 1e-6))
    null_masks = [_null_mask(c) for c in comparisons]
    iteration = 0
    for iteration in range(1, max_iterations + 1):
        log_odds = np.full(len(counts), np.log(share / (1 - share)))
        for index in range(len(comparisons)):
            if active[index]:
                weights = np.where(null_masks[index], 0.0, np.log(m[index] / u[index]))
                log_odds += weights[patterns[:, index]]
        posterior = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700)))
        expected = counts * posterior
        new_share = float(np.clip(expected.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        change = abs(new_share - share)
        share = new_share
        if update_m:
            for index in range(len(comparisons)):
                if not active[index]:
                    continue
                level_totals = np.bincount(
                    patterns[:, index], weights=expected, minlength=len(m[index])
                )
                new_m = _normalise(level_totals, null_masks[index], floor)
                change = max(change, float(np.abs(new_m - m[index]).max()))
                m[index] = new_m
        if change < tolerance:
            break
    return m, share, iteration


@dataclass
class TrainingCounts:
    """What training needs from the candidate pairs, as counts that add up.

    Candidate pairs of different partitions (counties) can be counted apart,
    in parallel, and merged: the parameters estimated from the merged counts
    are exactly those estimated from all the pairs at once (patterns are kept
    sorted and counts are whole numbers, so even the float sums agree).
    """

    n_pairs: int
    # deterministic rule -> (pairs it links, per comparison: level counts of those pairs)
    seed: dict[str, tuple[int, list[np.ndarray]]]
    # blocking rule -> level patterns and counts of the pairs satisfying it (an EM session)
    sessions: dict[str, tuple[np.ndarray, np.ndarray]]
    # rule index (match_key) -> level patterns and counts of the pairs it found first (the prior)
    first_found: dict[int, tuple[np.ndarray, np.ndarray]]

    @classmethod
    def merge(cls, parts: list[TrainingCounts]) -> TrainingCounts:
        seed: dict[str, tuple[int, list[np.ndarray]]] = {}
        for part in parts:
            for rule, (height, levels) in part.seed.items():
                if rule in seed:
                    total, summed = seed[rule]
                    seed[rule] = (total + height, [a + b for a, b in zip(summed, levels)])
                else:
                    seed[rule] = (height, [a.copy() for a in levels])
        return cls(
            n_pairs=sum(p.n_pairs for p in parts),
            seed=seed,
            sessions=_merge_patterns([p.sessions for p in parts]),
            first_found=_merge_patterns([p.first_found for p in parts]),
        )


def _merge_patterns(parts: list[dict]) -> dict:
    merged: dict = {}
    for key in {k for part in parts for k in part}:
        found = [part[key] for part in parts if key in part and len(part[key][1])]
        if not found:
            merged[key] = next(part[key] for part in parts if key in part)
            continue
        patterns = np.concatenate([f[0] for f in found])
        counts = np.concatenate([f[1] for f in found])
        # np.unique over rows sorts lexicographically: the order level_patterns gives
        distinct, inverse = np.unique(patterns, axis=0, return_inverse=True)
        merged[key] = (distinct, np.bincount(inverse.ravel(), weights=counts, minlength=len(distinct)))
    return merged


def training_counts(pairs: pl.DataFrame, blocking: BlockingResult, settings: LinkageSettings) -> TrainingCounts:
    """`pairs` are candidate pairs with their level columns."""
    comparisons = settings.comparisons
    seed = {}
    for rule in settings.deterministic_rules:
        linked = pairs.filter(rules_satisfied(pairs, blocking.rule_codes[rule.name]))
        seed[rule.name] = (
            linked.height,
            [
                np.bincount(linked[c.gamma_column].to_numpy(), minlength=len(c.levels)).astype(float)
                for c in comparisons
            ],
        )
    sessions = {
        rule.name: level_patterns(pairs.filter(rules_satisfied(pairs, blocking.rule_codes[rule.name])), comparisons)
        for rule in settings.blocking_rules
    }
    match_key = pairs["match_key"].to_numpy()
    first_found = {}
    for index in np.unique(match_key).tolist():
        first_found[int(index)] = level_patterns(pairs.filter(pl.Series(match_key == index)), comparisons)
    return TrainingCounts(pairs.height, seed, sessions, first_found)


def _seed_m(counts: TrainingCounts, settings: LinkageSettings) -> tuple[list[np.ndarray], list[str]]:
    m = [default_m(c) for c in settings.comparisons]
    sources = ["default"] * len(m)
    if not settings.training.seed_m_from_deterministic:
        return m, sources
    for rule in settings.deterministic_rules:
        height, levels = counts.seed.get(rule.name, (0, []))
        if height < MIN_SEED_PAIRS:
            continue
        for index, comparison in enumerate(settings.comparisons):
            if sources[index] != "default" or set(comparison.columns) & set(rule.columns):
                continue
            m[index] = _normalise(levels[index] + 0.5, _null_mask(comparison), settings.training.min_probability)
            sources[index] = f"seed:{rule.name}"
    return m, sources


def estimate_parameters(
    records: pl.DataFrame,
    pairs: pl.DataFrame,
    blocking: BlockingResult,
    settings: LinkageSettings,
) -> Parameters:
    """`pairs` are the candidate pairs with their level columns."""
    return parameters_from_counts(records, training_counts(pairs, blocking, settings), settings)


def parameters_from_counts(records: pl.DataFrame, counts: TrainingCounts, settings: LinkageSettings) -> Parameters:
    """Parameters from the counts of the candidate pairs; `records` are ALL records (u, prior, term frequencies)."""
    training = settings.training
    comparisons = settings.comparisons
    u = estimate_u(records, settings)
    u_source = ["random_sample"] * len(u)
    m, m_source = _seed_m(counts, settings)
    sessions: list[dict] = []

    if training.enabled and counts.n_pairs:
        trained: list[list[np.ndarray]] = [[] for _ in comparisons]
        for rule in settings.blocking_rules:
            patterns, pattern_counts = counts.sessions[rule.name]
            session_height = int(pattern_counts.sum())
            active = [not (set(c.columns) & rule.columns) for c in comparisons]
            if session_height < training.em_min_pairs or not any(active):
                sessions.append({"rule": rule.name, "pairs": session_height, "trained": []})
                continue
            session_m, share, iterations = expectation_maximisation(
                patterns, pattern_counts, comparisons, active, m, u, 0.1,
                training.em_max_iterations, training.em_convergence, training.min_probability,
            )
            for index, is_active in enumerate(active):
                if is_active:
                    trained[index].append(session_m[index])
            sessions.append(
                {
                    "rule": rule.name,
                    "pairs": session_height,
                    "trained": [c.name for c, a in zip(comparisons, active) if a],
                    "match_share": share,
                    "iterations": iterations,
                }
            )
        for index, estimates in enumerate(trained):
            if estimates:
                m[index] = np.mean(estimates, axis=0)
                m_source[index] = "em"

    _apply_fixed(comparisons, m, m_source, u, u_source)
    prior = training.prior_match_probability
    if prior is None:
        prior = _estimate_prior(records, counts, settings, m, u)
    return Parameters(comparisons, m, u, prior, m_source, u_source, sessions,
                      term_frequency_tables(records, comparisons))


def _apply_fixed(
    comparisons: list[Comparison],
    m: list[np.ndarray],
    m_source: list[str],
    u: list[np.ndarray],
    u_source: list[str],
) -> None:
    for index, comparison in enumerate(comparisons):
        for level_index, level in enumerate(comparison.levels):
            if level.m_probability is not None:
                m[index][level_index] = level.m_probability
                m_source[index] = "fixed" if m_source[index] == "default" else f"{m_source[index]}+fixed"
            if level.u_probability is not None:
                u[index][level_index] = level.u_probability
                u_source[index] = f"{u_source[index]}+fixed"


def _estimate_prior(
    records: pl.DataFrame,
    counts: TrainingCounts,
    settings: LinkageSettings,
    m: list[np.ndarray],
    u: list[np.ndarray],
) -> float:
    """Expected matches among the candidates over all comparable pairs.

    The pairs each rule found first are weighed without the comparisons on
    that rule's own columns (agreement there is what put them in the block,
    not evidence), EM on the match share only gives the share of matches in
    that block, and the expected matches add up over the rules. Counting the
    blocked agreement as evidence instead would call most same-name pairs of
    a county matches, and the prior would swing with the share of such pairs
    (e.g. between a one-snapshot and a two-snapshot run).
    """
    total = total_comparable_pairs(records, settings)
    if not counts.n_pairs or total <= 0:
        return 1e-6
    comparisons = settings.comparisons
    rule_columns = [rule.columns for rule in settings.blocking_rules] + [
        set(rule.columns) for rule in settings.deterministic_rules
    ]
    expected_matches = 0.0
    for index, columns in enumerate(rule_columns):
        if index not in counts.first_found:
            continue
        patterns, pattern_counts = counts.first_found[index]
        height = float(pattern_counts.sum())
        if not height:
            continue
        if index >= len(settings.blocking_rules):
            # Deterministic pairs link whatever their weight: each is a match.
            expected_matches += height
            continue
        active = [not (set(c.columns) & columns) for c in comparisons]
        _, share, _ = expectation_maximisation(
            patterns, pattern_counts, comparisons, active, m, u, 0.1,
            settings.training.em_max_iterations * 4, settings.training.em_convergence * 0.1,
            settings.training.min_probability, update_m=False,
        )
        expected_matches += share * height
    return float(np.clip(max(expected_matches, 1.0) / total, 1e-12, 0.5))
