"""The Linker end to end: determinism, several sources, a non-household dataset."""

import polars as pl
from polars.testing import assert_frame_equal

from entity_resolution import Linker, LinkageSettings

COMPANIES = pl.DataFrame(
    {
        "company_id": ["c1", "c2", "c3", "c4", "c5", "c6", "c7"],
        "company": [
            "Acme Widgets Ltd",
            "ACME Widgets Limited",
            "Bolt & Nut Co",
            "Bolt and Nut Company",
            "Zenith Foods",
            "Zenith Feeds",
            "Acme Widgets Ltd",
        ],
        "postcode": ["AB1 2CD", "AB1 2CD", "EF3 4GH", "EF3 4GH", "JK5 6LM", "JK5 9ZZ", "XY9 9XY"],
        "vat": ["GB123", "GB123", None, "GB777", "GB555", "GB556", "GB999"],
    }
)

COMPANY_SETTINGS = {
    "unique_id_column": "company_id",
    "link_type": "dedupe_only",
    "blocking_rules": [
        {"name": "postcode_area", "keys": [{"column": "postcode", "transform": "prefix", "n": 3}]},
        {"name": "first_letter", "keys": [{"column": "company", "transform": "first_char"}]},
    ],
    "comparisons": [
        {
            "name": "company",
            "column": "company",
            "levels": [
                {"type": "exact"},
                {"type": "jaro_winkler", "threshold": 0.9, "m_probability": 0.3, "u_probability": 0.01},
                {"type": "jaro_winkler", "threshold": 0.75, "m_probability": 0.15, "u_probability": 0.05},
                {"type": "else", "m_probability": 0.05, "u_probability": 0.94},
            ],
        },
        {
            "name": "postcode",
            "column": "postcode",
            "levels": [
                {"type": "null"},
                {"type": "exact", "m_probability": 0.9, "u_probability": 0.01},
                {"type": "levenshtein", "distance": 2, "m_probability": 0.05, "u_probability": 0.05},
                {"type": "else", "m_probability": 0.05, "u_probability": 0.94},
            ],
        },
        {
            "name": "vat",
            "column": "vat",
            "levels": [
                {"type": "null"},
                {"type": "exact", "m_probability": 0.95, "u_probability": 0.001},
                {"type": "else", "m_probability": 0.05, "u_probability": 0.999},
            ],
        },
    ],
    "training": {"enabled": False, "prior_match_probability": 0.05, "u_sample_pairs": 1000},
    "thresholds": {"link": 3.0, "review": 0.0},
    "cannot_link": [{"column": "vat"}],
}


def test_non_household_dataset_with_its_own_settings():
    settings = LinkageSettings.model_validate(COMPANY_SETTINGS)
    result = Linker(settings).link(COMPANIES)
    cluster = dict(zip(result.clusters["company_id"], result.clusters["cluster_id"]))
    assert cluster["c1"] == cluster["c2"]
    assert cluster["c3"] == cluster["c4"]
    assert cluster["c5"] != cluster["c6"]  # different VAT numbers: never one company
    assert cluster["c7"] != cluster["c1"]  # same name, other postcode, other VAT
    # Explanation kept per pair.
    assert {"gamma_company", "weight_company", "gamma_vat", "weight_vat", "match_weight"} <= set(result.pairs.columns)
    assert set(result.timings) >= {"block", "compare", "train", "score", "cluster"}


def people(n_entities: int = 400) -> pl.DataFrame:
    import numpy as np

    rng = np.random.default_rng(11)
    surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"]
    given = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"]
    rows = []
    for e in range(n_entities):
        name = rng.choice(surnames) + rng.choice(given) + rng.choice(given)
        dob = f"19{rng.integers(40, 99)}-0{rng.integers(1, 9)}-1{rng.integers(0, 9)}"
        village = f"v{rng.integers(0, 30)}"
        idn = f"5299{e:06d}{dob.replace('-', '')}"
        for copy, source in enumerate(["health", "civil"][: rng.integers(1, 3)] + ["water"] * rng.integers(0, 2)):
            rows.append(
                {
                    "rid": f"{source}-{e}-{copy}",
                    "source": source,
                    "name": name if rng.random() < 0.9 else name[:-1] + rng.choice(given),
                    "birth_date": dob,
                    "village": village,
                    "id_number": idn if rng.random() < 0.8 else None,
                }
            )
    return pl.DataFrame(rows)


PEOPLE_SETTINGS = {
    "unique_id_column": "rid",
    "source_column": "source",
    "blocking_rules": [
        {"name": "village_surname", "keys": ["village", {"column": "name", "transform": "first_char"}]},
        {"name": "dob", "keys": ["birth_date"]},
    ],
    "comparisons": [
        {
            "name": "name",
            "column": "name",
            "term_frequency": True,
            "levels": [
                {"type": "null"},
                {"type": "exact"},
                {"type": "jaro_winkler", "threshold": 0.7},
                {"type": "else"},
            ],
        },
        {
            "name": "dob",
            "column": "birth_date",
            "levels": [{"type": "null"}, {"type": "exact"}, {"type": "same_year"}, {"type": "else"}],
        },
        {"name": "village", "column": "village", "levels": [{"type": "exact"}, {"type": "else"}]},
    ],
    "deterministic_rules": [{"name": "same_id", "columns": ["id_number"], "method": "id_exact"}],
    "cannot_link": [{"column": "id_number"}],
    "one_per_group": ["source"],
    "duplicate_columns": ["name", "birth_date", "village"],
    "training": {"u_sample_pairs": 20_000, "em_min_pairs": 50},
    "thresholds": {"link": 5.0, "review": 0.0},
}


def test_output_does_not_depend_on_input_row_order():
    frame = people()
    linker = Linker(PEOPLE_SETTINGS)
    first = linker.link(frame)
    shuffled = linker.link(frame.sample(fraction=1.0, shuffle=True, seed=99))
    for name in ("pairs", "clusters", "parameters", "blocking_report", "cut_edges"):
        assert_frame_equal(getattr(first, name), getattr(shuffled, name))
    assert first.clusters["cluster_size"].max() > 1


def test_several_sources_given_as_a_mapping():
    frame = people()
    by_source = {name: part.drop("source") for (name,), part in frame.partition_by("source", as_dict=True).items()}
    from_mapping = Linker(PEOPLE_SETTINGS).link(by_source)
    from_frame = Linker(PEOPLE_SETTINGS).link(frame)
    assert_frame_equal(from_mapping.clusters, from_frame.clusters)
    # One record per source in a cluster, unless exact duplicates.
    per_source = from_frame.clusters.join(frame, on=["source", "rid"]).group_by("cluster_id", "source").agg(
        pl.struct("name", "birth_date", "village").n_unique().alias("distinct")
    )
    assert per_source["distinct"].max() == 1
    # Two different IDs never share a cluster.
    ids = from_frame.clusters.join(frame, on=["source", "rid"]).drop_nulls("id_number")
    assert ids.group_by("cluster_id").agg(pl.col("id_number").n_unique())["id_number"].max() == 1
