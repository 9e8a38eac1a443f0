"""Fellegi-Sunter estimation: EM recovers known m, random pairs recover u, TF weighs rare names more."""

import numpy as np
import polars as pl

from entity_resolution import Linker, LinkageSettings
from entity_resolution.estimation import estimate_u, expectation_maximisation
from entity_resolution.records import prepare_records
from entity_resolution.settings import Comparison


def three_level(name: str) -> Comparison:
    return Comparison.model_validate(
        {
            "name": name,
            "column": name,
            "levels": [{"type": "exact"}, {"type": "jaro_winkler", "threshold": 0.9}, {"type": "else"}],
        }
    )


def test_em_recovers_known_m_on_simulated_pairs():
    rng = np.random.default_rng(1)
    true_m = [np.array([0.85, 0.10, 0.05]), np.array([0.70, 0.20, 0.10]), np.array([0.95, 0.03, 0.02])]
    true_u = [np.array([0.02, 0.08, 0.90]), np.array([0.05, 0.15, 0.80]), np.array([0.10, 0.10, 0.80])]
    n_match, n_non = 30_000, 120_000
    gammas = np.concatenate(
        [
            np.stack([rng.choice(3, size=n_match, p=m) for m in true_m], axis=1),
            np.stack([rng.choice(3, size=n_non, p=u) for u in true_u], axis=1),
        ]
    )
    patterns, counts = np.unique(gammas, axis=0, return_counts=True)
    comparisons = [three_level(n) for n in ("a", "b", "c")]
    start = [np.array([0.5, 0.3, 0.2])] * 3
    m, share, iterations = expectation_maximisation(
        patterns, counts.astype(float), comparisons, [True] * 3, start, true_u, 0.5, 200, 1e-7, 1e-6
    )
    assert abs(share - n_match / (n_match + n_non)) < 0.01
    for estimated, truth in zip(m, true_m):
        np.testing.assert_allclose(estimated, truth, atol=0.02)


def test_u_from_random_pairs_recovers_value_frequencies():
    rng = np.random.default_rng(2)
    n = 4000
    frame = pl.DataFrame(
        {"id": np.arange(n), "colour": rng.choice(["red", "green", "blue", "grey"], size=n, p=[0.4, 0.3, 0.2, 0.1])}
    )
    settings = LinkageSettings.model_validate(
        {
            "unique_id_column": "id",
            "blocking_rules": [{"name": "c", "keys": ["colour"]}],
            "comparisons": [{"name": "colour", "column": "colour", "levels": [{"type": "exact"}, {"type": "else"}]}],
            "training": {"u_sample_pairs": 200_000, "seed": 3},
        }
    )
    u = estimate_u(prepare_records(frame, settings), settings)[0]
    assert abs(u[0] - (0.4**2 + 0.3**2 + 0.2**2 + 0.1**2)) < 0.01


def simulated_people(n_entities: int, seed: int) -> tuple[pl.DataFrame, dict[str, float]]:
    """Each entity appears 2-3 times; each field is copied correctly with a known probability."""
    rng = np.random.default_rng(seed)
    keep = {"surname": 0.95, "first": 0.8, "city": 0.9}
    surnames = [f"s{i}" for i in range(60)]
    firsts = [f"f{i}" for i in range(150)]
    cities = [f"c{i}" for i in range(15)]
    rows = []
    for entity in range(n_entities):
        truth = {"surname": rng.choice(surnames), "first": rng.choice(firsts), "city": rng.choice(cities)}
        for copy in range(rng.integers(2, 4)):
            row = {"id": f"e{entity}-{copy}", "entity": entity, "year": int(1940 + entity % 60)}
            for column, pool in (("surname", surnames), ("first", firsts), ("city", cities)):
                row[column] = truth[column] if rng.random() < keep[column] else rng.choice(pool)
            rows.append(row)
    return pl.DataFrame(rows), keep


def test_em_end_to_end_recovers_m_of_simulated_records():
    frame, keep = simulated_people(3000, seed=5)
    exact_else = lambda c: {"name": c, "column": c, "levels": [{"type": "exact"}, {"type": "else"}]}  # noqa: E731
    settings = LinkageSettings.model_validate(
        {
            "unique_id_column": "id",
            "blocking_rules": [{"name": "year", "keys": ["year"]}],
            "comparisons": [exact_else("surname"), exact_else("first"), exact_else("city")],
            "training": {"u_sample_pairs": 100_000, "em_max_iterations": 100, "em_convergence": 1e-6},
            "clustering": {"chain_guard": False},
        }
    )
    result = Linker(settings).link(frame)
    params = result.parameters.filter(pl.col("level") == 0)
    pool = {"surname": 60, "first": 150, "city": 15}
    for column, kept in keep.items():
        # Two copies agree when both were kept, or by chance (1 / pool size) otherwise.
        expected = kept**2 + (1 - kept**2) / pool[column]
        m = params.filter(pl.col("comparison") == column)["m_probability"].item()
        assert abs(m - expected) < 0.03, (column, m, expected)


def test_term_frequency_rare_name_weighs_more_than_common_name():
    names = ["张伟"] * 50 + ["欧阳娜"] * 2 + [f"名{i}" for i in range(48)]
    frame = pl.DataFrame({"id": range(100), "name": names, "village": ["v1"] * 100})
    settings = LinkageSettings.model_validate(
        {
            "unique_id_column": "id",
            "blocking_rules": [{"name": "name", "keys": ["name"], "max_block_size": 100}],
            "comparisons": [
                {
                    "name": "name",
                    "column": "name",
                    "term_frequency": True,
                    "levels": [{"type": "exact"}, {"type": "else"}],
                }
            ],
            "training": {"enabled": False, "prior_match_probability": 0.01},
            "clustering": {"chain_guard": False},
        }
    )
    pairs = Linker(settings).link(frame).pairs
    common = pairs.filter(pl.col("id_l") < 50)["weight_name"].unique().to_list()
    rare = pairs.filter(pl.col("id_l") == 50)["weight_name"].to_list()
    assert len(common) == 1 and len(rare) == 1
    assert rare[0] > common[0]
    # log2(m / tf): tf(张伟) = 0.5, tf(欧阳娜) = 0.02
    assert abs((rare[0] - common[0]) - np.log2(0.5 / 0.02)) < 1e-4
