"""Partitions (e.g. counties) linked apart give exactly the result of one run over everything."""

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from entity_resolution import Linker, LinkageSettings
from entity_resolution.estimation import TrainingCounts
from entity_resolution.partitioned import link_partitioned, split_partitions

SURNAMES = ["wang", "li", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu"]
GIVEN = ["wei", "fang", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan", "jie", "tao", "ming"]


def people(seed: int = 3, per_region: int = 400) -> pl.DataFrame:
    """Three regions; each person has one to three records, some with a typo or no ID;
    movers (the first 15 of each region) also have a record in the next region."""
    rng = np.random.default_rng(seed)
    rows = []
    for region in range(3):
        for i in range(per_region):
            person = f"{region}-{i}"
            surname, given = SURNAMES[rng.integers(len(SURNAMES))], GIVEN[rng.integers(len(GIVEN))]
            birth = f"19{rng.integers(40, 99)}-0{rng.integers(1, 9)}-1{rng.integers(0, 9)}"
            id_number = f"ID{region}{i:05d}"
            for copy in range(int(rng.integers(1, 4))):
                name = f"{surname} {given}"
                if rng.random() < 0.15:
                    name = name[:-1] + "x"  # a typo
                rows.append({"person": person, "region": f"R{region}", "name": name, "surname": surname,
                             "birth_date": birth, "id_number": None if rng.random() < 0.3 else id_number})
            if i < 15:
                rows.append({"person": person, "region": f"R{(region + 1) % 3}", "name": f"{surname} {given}",
                             "surname": surname, "birth_date": birth, "id_number": id_number})
    frame = pl.DataFrame(rows).with_row_index("record_id").with_columns(pl.col("record_id").cast(pl.String))
    # shuffled, so nothing depends on the input order
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)


SETTINGS = {
    "unique_id_column": "record_id",
    "link_type": "dedupe_only",
    "partition_column": "region",
    "thresholds": {"link": 4.0, "review": 0.0},
    "blocking_rules": [
        {"name": "surname_birth", "keys": [{"column": "surname"}, {"column": "birth_date"}]},
        {"name": "name", "keys": [{"column": "name"}], "max_block_size": 30},
        {"name": "id", "keys": [{"column": "id_number"}]},
    ],
    "comparisons": [
        {"name": "name", "column": "name", "term_frequency": True,
         "levels": [{"type": "null"}, {"type": "exact"}, {"type": "jaro_winkler", "threshold": 0.9}, {"type": "else"}]},
        {"name": "birth_date", "column": "birth_date",
         "levels": [{"type": "null"}, {"type": "exact"}, {"type": "else"}]},
        {"name": "id_number", "column": "id_number",
         "levels": [{"type": "null"}, {"type": "exact"}, {"type": "else"}]},
    ],
    "deterministic_rules": [
        {"name": "same_id", "method": "id_exact", "columns": ["id_number", "name"],
         "where": [{"column": "id_number"}], "across_partitions": True},
    ],
    "cannot_link": [{"column": "id_number"}],
    "training": {"u_sample_pairs": 20000, "em_min_pairs": 50},
}


@pytest.fixture(scope="module")
def data() -> pl.DataFrame:
    return people()


@pytest.fixture(scope="module")
def combined(data):
    return Linker(LinkageSettings.model_validate(SETTINGS)).link(data)


def _assert_same(a, b):
    assert_frame_equal(a.clusters, b.clusters)
    assert_frame_equal(a.pairs, b.pairs.select(a.pairs.columns))
    assert_frame_equal(a.parameters, b.parameters)


def test_partitions_one_by_one_give_the_combined_result(data, combined):
    partitioned = link_partitioned(Linker(LinkageSettings.model_validate(SETTINGS)), data, workers=1)
    _assert_same(combined, partitioned)
    assert combined.clusters["cluster_id"].n_unique() < data.height  # something was linked


def test_partitions_in_worker_processes_give_the_combined_result(data, combined):
    partitioned = link_partitioned(Linker(LinkageSettings.model_validate(SETTINGS)), data, workers=2)
    _assert_same(combined, partitioned)


def test_training_counts_of_the_partitions_add_up_to_the_whole(data):
    linker = Linker(LinkageSettings.model_validate(SETTINGS))
    whole = linker.candidates(data).training_counts()
    parts = TrainingCounts.merge(
        [linker.candidates(part).training_counts() for part in split_partitions(data, linker.settings).values()]
    )
    assert parts.n_pairs == whole.n_pairs > 0
    for rule, (patterns, counts) in whole.sessions.items():
        np.testing.assert_array_equal(parts.sessions[rule][0], patterns)
        np.testing.assert_array_equal(parts.sessions[rule][1], counts)


def test_no_candidate_pair_crosses_a_partition_but_movers_are_joined(data, combined):
    region = dict(data.select("record_id", "region").iter_rows())
    person = dict(data.select("record_id", "person").iter_rows())
    pairs = combined.pairs.with_columns(
        region_l=pl.col("record_id_l").replace_strict(region), region_r=pl.col("record_id_r").replace_strict(region)
    )
    crossing = pairs.filter(pl.col("region_l") != pl.col("region_r"))
    assert crossing.height > 0
    assert set(crossing["match_key"]) == {"same_id"} and set(crossing["method"]) == {"id_exact"}
    cluster = dict(combined.clusters.select("record_id", "cluster_id").iter_rows())
    # every mover's record in the other region, when its ID and name agree with a home record, is in its cluster
    movers = data.filter(pl.col("person").str.extract(r"-(\d+)$").cast(pl.Int32) < 15)
    joined = 0
    for person_id, records in movers.group_by("person"):
        home = records.filter(pl.col("region") == f"R{person_id[0][0]}")
        away = records.filter(pl.col("region") != f"R{person_id[0][0]}")
        agreeing = home.join(away, on=["id_number", "name"]).filter(pl.col("id_number").is_not_null())
        for left, right in agreeing.select("record_id", "record_id_right").iter_rows():
            assert cluster[left] == cluster[right]
            joined += 1
    assert joined > 10
    # and nothing joins two different people across regions
    clusters = pl.DataFrame({"record_id": list(cluster), "cluster": list(cluster.values())}).with_columns(
        person=pl.col("record_id").replace_strict(person))
    assert clusters.group_by("cluster").agg(pl.col("person").n_unique()).get_column("person").max() == 1
