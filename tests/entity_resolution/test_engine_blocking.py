"""Blocking: never the cross product, oversize blocks bounded and reported."""

import math

import numpy as np
import polars as pl

from entity_resolution.blocking import block
from entity_resolution.records import prepare_records
from entity_resolution.settings import LinkageSettings

COMPARISON = {"name": "x", "column": "name", "levels": [{"type": "exact"}, {"type": "else"}]}


def settings(rules, **extra):
    return LinkageSettings.model_validate(
        {"unique_id_column": "id", "blocking_rules": rules, "comparisons": [COMPARISON], **extra}
    )


def people(n: int, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "id": [f"r{i:05d}" for i in range(n)],
            "name": rng.choice(["王伟", "张伟", "李娜", "刘洋", None], size=n).tolist(),
            "village": rng.choice([f"v{i}" for i in range(20)], size=n).tolist(),
            "year": rng.integers(1950, 2010, size=n).astype(str).tolist(),
        }
    )


def test_pairs_are_ordered_unique_and_within_blocks_only():
    frame = people(400)
    s = settings([{"name": "village", "keys": ["village"]}, {"name": "name_year", "keys": ["name", "year"]}])
    records = prepare_records(frame, s)
    result = block(records, s)
    pairs = result.pairs
    assert (pairs["id_l"] < pairs["id_r"]).all()
    assert pairs.select("id_l", "id_r").is_duplicated().sum() == 0
    village = records["village"]
    name_year = records["name"] + records["year"]
    same_village = village.gather(pairs["id_l"]) == village.gather(pairs["id_r"])
    same_name_year = (name_year.gather(pairs["id_l"]) == name_year.gather(pairs["id_r"])).fill_null(False)
    assert (same_village | same_name_year).all()
    # Every within-block pair is found, and nothing more.
    expected_village = sum(math.comb(c, 2) for c in frame["village"].value_counts()["count"].to_list())
    assert result.report.row(0, named=True)["pairs_produced"] == expected_village
    assert pairs.height < math.comb(400, 2) / 5
    assert result.report["new_pairs"].sum() == pairs.height


def test_null_keys_never_block_together():
    frame = pl.DataFrame({"id": [1, 2, 3], "name": [None, None, "a"]})
    s = settings([{"name": "name", "keys": ["name"]}])
    assert block(prepare_records(frame, s), s).pairs.is_empty()


def test_derived_keys_first_char_and_prefix():
    frame = pl.DataFrame({"id": [1, 2, 3, 4], "name": ["wang wei", "wang fang", "wu li", "zhang"]})
    first = settings([{"name": "f", "keys": [{"column": "name", "transform": "first_char"}]}])
    prefix = settings([{"name": "p", "keys": [{"column": "name", "transform": "prefix", "n": 4}]}])
    assert block(prepare_records(frame, first), first).pairs.height == 3  # w: 3 records
    assert block(prepare_records(frame, prefix), prefix).pairs.height == 1  # "wang" twice


def test_oversize_block_is_split_by_secondary_key_then_sampled_and_reported():
    n = 1000
    frame = pl.DataFrame(
        {
            "id": list(range(n)),
            "name": ["same"] * n,
            "village": [f"v{i % 4}" for i in range(n)],
        }
    )
    s = settings(
        [{"name": "name", "keys": ["name"], "max_block_size": 100, "oversize": "split", "split_keys": ["village"]}]
    )
    result = block(prepare_records(frame, s), s)
    row = result.report.row(0, named=True)
    assert row["largest_raw_block"] == n
    assert row["oversize_blocks"] == 1 and row["oversize_records"] == n
    assert row["split_blocks"] == 1  # split by village into 4 x 250 ...
    assert row["sampled_blocks"] == 4  # ... still too big, so chunked deterministically
    assert row["largest_block"] <= 100
    # Bounded: at most (records / chunk) * C(100, 2) pairs, far from C(1000, 2).
    assert result.pairs.height <= math.ceil(n / 84) * math.comb(100, 2)
    assert result.pairs.height > 0
    # Chunks never mix villages.
    village = pl.Series([f"v{i % 4}" for i in range(n)])
    assert (village.gather(result.pairs["id_l"]) == village.gather(result.pairs["id_r"])).all()
    # Same result on a second run.
    assert block(prepare_records(frame.reverse(), s), s).pairs.equals(result.pairs)


def test_oversize_block_skipped_is_reported():
    frame = pl.DataFrame({"id": list(range(50)), "name": ["a"] * 40 + ["b"] * 10})
    s = settings([{"name": "name", "keys": ["name"], "max_block_size": 20, "oversize": "skip"}])
    result = block(prepare_records(frame, s), s)
    assert result.pairs.height == math.comb(10, 2)
    assert result.report.row(0, named=True)["skipped_blocks"] == 1


def test_link_only_keeps_cross_source_pairs():
    frame = pl.DataFrame({"id": [1, 2, 3, 4], "src": ["a", "a", "b", "b"], "name": ["x"] * 4})
    s = settings([{"name": "name", "keys": ["name"]}], source_column="src", link_type="link_only")
    records = prepare_records(frame, s)
    pairs = block(records, s).pairs
    assert pairs.height == 4
    assert (records["src"].gather(pairs["id_l"]) != records["src"].gather(pairs["id_r"])).all()
