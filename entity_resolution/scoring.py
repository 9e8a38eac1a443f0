"""Match weight and probability per pair, keeping each comparison's level and weight as the explanation.

match_weight = log2(prior odds) + sum over comparisons of log2(m / u) of the
pair's level. For a comparison with term-frequency adjustment, exact agreement
on value v weighs log2(m / tf(v)) instead, tf(v) being v's share of the
non-null values in the data: agreeing on a rare name counts more than on 张伟.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from entity_resolution.blocking import BlockingResult, rules_satisfied
from entity_resolution.estimation import Parameters
from entity_resolution.settings import Comparison, LinkageSettings
from entity_resolution.term_frequency import record_term_frequencies


def comparison_weights(
    pairs: pl.DataFrame, records: pl.DataFrame, parameters: Parameters, index: int
) -> pl.Series:
    comparison = parameters.comparisons[index]
    weights = parameters.log2_bayes_factors(index)
    gamma = pairs[comparison.gamma_column]
    weight = pl.Series(weights.astype(np.float64)).gather(gamma.cast(pl.UInt32))
    tf_levels = comparison.tf_level_indexes()
    if tf_levels:
        tf = record_term_frequencies(records, comparison, parameters.tf_tables.get(comparison.name))
        rarest_side = pl.max_horizontal(
            tf.gather(pairs["id_l"]), tf.gather(pairs["id_r"]), pl.lit(comparison.tf_minimum)
        )
        m_at_level = pl.Series(np.log2(parameters.m[index])).gather(gamma.cast(pl.UInt32))
        weight = pl.select(
            pl.when(gamma.is_in(tf_levels) & rarest_side.is_not_null())
            .then(m_at_level - rarest_side.log(2))
            .otherwise(weight)
        ).to_series()
    return weight.cast(pl.Float32).alias(comparison.weight_column)


def score(
    pairs: pl.DataFrame,
    records: pl.DataFrame,
    parameters: Parameters,
    settings: LinkageSettings,
    blocking: BlockingResult,
) -> pl.DataFrame:
    """Pairs with level columns -> plus weight_<comparison>, match_weight, match_probability, method, decision."""
    weights = [comparison_weights(pairs, records, parameters, i) for i in range(len(settings.comparisons))]
    scored = pairs.with_columns(weights).with_columns(
        (pl.lit(parameters.prior_weight) + pl.sum_horizontal([w.name for w in weights] or [pl.lit(0.0)]))
        .cast(pl.Float64)
        .alias("match_weight")
    )
    scored = scored.with_columns(
        (1.0 / (1.0 + pl.lit(2.0).pow(-pl.col("match_weight")))).alias("match_probability")
    )
    method = pl.lit("probabilistic")
    for rule in reversed(settings.deterministic_rules):
        satisfied = rules_satisfied(pairs, blocking.rule_codes[rule.name])
        method = pl.when(satisfied).then(pl.lit(rule.method)).otherwise(method)
    thresholds = settings.thresholds
    return scored.with_columns(method.alias("method")).with_columns(
        pl.when(pl.col("method") != "probabilistic")
        .then(pl.lit("link"))
        .when(pl.col("match_weight") >= thresholds.link)
        .then(pl.lit("link"))
        .when(pl.col("match_weight") >= thresholds.review)
        .then(pl.lit("review"))
        .otherwise(pl.lit("no_link"))
        .alias("decision")
    )
