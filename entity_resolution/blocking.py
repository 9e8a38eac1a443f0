"""Candidate pairs: records that agree on a blocking key, never the full cross product.

Each rule gives every record a block code (null when a key is missing) and
pairs are a self-join on that code. Blocks above `max_block_size` are split by
secondary keys or cut into deterministic pseudo-random chunks, and every such
block is counted in the report. Pairs found by several rules are kept once,
attributed to the first rule (`match_key`), as Splink does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from entity_resolution.records import ID, blank_to_null, dense_code
from entity_resolution.settings import (
    BlockingRule,
    BlockKey,
    Condition,
    DeterministicRule,
    LinkageSettings,
)

PAIR_SCHEMA = {"id_l": pl.UInt32, "id_r": pl.UInt32}


@dataclass
class BlockingResult:
    pairs: pl.DataFrame  # id_l < id_r (UInt32), match_key (UInt8 index into rule_names)
    report: pl.DataFrame
    rule_names: list[str]  # blocking rules, then deterministic rules
    rule_codes: dict[str, pl.Series]  # rule name -> per-record block code (null: record not in any block)


def key_expression(key: BlockKey, dtype: pl.DataType) -> pl.Expr:
    column = blank_to_null(pl.col(key.column), dtype)
    match key.transform:
        case "value":
            return column
        case "first_char":
            return column.cast(pl.String).str.slice(0, 1)
        case "prefix":
            return column.cast(pl.String).str.slice(0, key.n)
        case "year":
            if dtype == pl.String:
                return column.str.to_date(strict=False).dt.year()
            return column.dt.year()
        case "lower":
            return column.cast(pl.String).str.to_lowercase()
    raise ValueError(key.transform)


def condition_expression(condition: Condition) -> pl.Expr:
    expr = pl.col(condition.column).is_not_null()
    if condition.in_ is not None:
        expr = expr & pl.col(condition.column).is_in(condition.in_)
    return expr


def block_codes(
    records: pl.DataFrame, keys: list[BlockKey], where: list[Condition] | None = None
) -> pl.Series:
    """Per-record code of the key tuple; null where a key is missing or `where` fails."""
    names = [f"__k{i}" for i in range(len(keys))]
    keyed = records.select(
        *[key_expression(k, records.schema[k.column]).alias(n) for k, n in zip(keys, names)],
        pl.all_horizontal([condition_expression(c) for c in where or []] or [pl.lit(True)]).alias("__ok"),
    )
    usable = keyed.select(pl.all_horizontal(pl.col(names).is_not_null()) & pl.col("__ok")).to_series()
    codes = dense_code(keyed, names)
    return pl.select(pl.when(usable).then(codes).otherwise(None).alias("block")).to_series()


def _stable_hash(ids: pl.Series, seed: int) -> pl.Series:
    """splitmix64 of an integer: a pseudo-random order that does not depend on the polars version."""
    with np.errstate(over="ignore"):
        x = ids.to_numpy().astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return pl.Series("__h", x)


def _pairs_within_blocks(members: pl.DataFrame) -> pl.DataFrame:
    """All pairs (id_l < id_r) of records sharing `block`, generated with numpy from block runs.

    After sorting by (block, id), record at position p pairs with every later
    position of its run, so both ends are computed by arithmetic, no join.
    The caller bounds block sizes.
    """
    ordered = members.sort("block", ID)
    blocks = ordered["block"].to_numpy()
    ids = ordered[ID].to_numpy()
    n = len(ids)
    if n < 2:
        return pl.DataFrame(schema=PAIR_SCHEMA)
    starts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]])
    sizes = np.diff(np.r_[starts, n])
    run_end = np.repeat(starts + sizes, sizes)
    position = np.arange(n, dtype=np.int64)
    partners = run_end - position - 1
    left = np.repeat(position, partners)
    first_slot = np.repeat(np.cumsum(partners) - partners, partners)
    right = left + 1 + (np.arange(len(left), dtype=np.int64) - first_slot)
    return pl.DataFrame({"id_l": ids[left], "id_r": ids[right]}, schema=PAIR_SCHEMA)


def _rule_pairs(
    records: pl.DataFrame, rule: BlockingRule, codes: pl.Series, seed: int
) -> tuple[pl.DataFrame, dict]:
    members = pl.DataFrame({ID: records[ID], "block": codes}).drop_nulls("block")
    sizes = members.group_by("block").len()
    oversize = sizes.filter(pl.col("len") > rule.max_block_size)
    stats = {
        "rule": rule.name,
        "keys": ", ".join(k.label for k in rule.keys),
        "records_blocked": members.height,
        "blocks": sizes.height,
        "largest_raw_block": int(sizes["len"].max() or 0),
        "oversize_blocks": oversize.height,
        "oversize_records": int(oversize["len"].sum()),
        "action": "none" if oversize.is_empty() else rule.oversize,
        "split_blocks": 0,
        "sampled_blocks": 0,
        "skipped_blocks": 0,
    }
    if not oversize.is_empty():
        members = _shrink_oversize_blocks(records, rule, members, oversize, seed, stats)
    final_sizes = members.group_by("block").len()
    stats["largest_block"] = int(final_sizes["len"].max() or 0)
    return _pairs_within_blocks(members), stats


def _shrink_oversize_blocks(
    records: pl.DataFrame,
    rule: BlockingRule,
    members: pl.DataFrame,
    oversize: pl.DataFrame,
    seed: int,
    stats: dict,
) -> pl.DataFrame:
    is_big = pl.col("block").is_in(oversize["block"].implode())
    if rule.oversize == "skip":
        stats["skipped_blocks"] = oversize.height
        return members.filter(~is_big)
    small, big = members.filter(~is_big), members.filter(is_big)
    next_code = int(members["block"].max()) + 1
    if rule.oversize == "split" and rule.split_keys:
        split_codes = block_codes(records, rule.split_keys)
        # A record without the secondary key stays in a sub-block of its own kind (null is a value here).
        big = big.with_columns(pl.Series("__split", split_codes.gather(big[ID])))
        big = big.with_columns(
            (pl.lit(next_code, pl.UInt32) + dense_code(big, ["block", "__split"])).alias("block")
        ).drop("__split")
        stats["split_blocks"] = oversize.height
        next_code = int(big["block"].max()) + 1
    sizes = big.group_by("block").len()
    still_big = sizes.filter(pl.col("len") > rule.max_block_size)
    if not still_big.is_empty():
        stats["sampled_blocks"] = still_big.height
        chunks = still_big.with_columns(
            (pl.col("len") / rule.max_block_size).ceil().cast(pl.UInt32).alias("__chunks")
        ).select("block", "__chunks")
        # Round-robin over a seeded hash of each record's rank within its block:
        # chunks of equal size, the same whatever the input order, and the same
        # whether the block's partition is linked alone or with all the others.
        big = big.with_columns(pl.col(ID).rank("ordinal").over("block").cast(pl.UInt32).alias("__in_block"))
        big = (
            big.with_columns(_stable_hash(big["__in_block"], seed))
            .join(chunks, on="block", how="left")
            .with_columns(
                pl.col("__h").rank("ordinal").over("block").cast(pl.UInt32).alias("__rank")
            )
            .with_columns(
                pl.when(pl.col("__chunks").is_null())
                .then(pl.col("block").cast(pl.UInt64))
                .otherwise(
                    pl.lit(next_code, pl.UInt64)
                    + pl.col("block").cast(pl.UInt64) * 4096
                    + (pl.col("__rank") % pl.col("__chunks")).cast(pl.UInt64)
                )
                .alias("__block64")
            )
        )
        big = big.with_columns(
            (pl.lit(next_code, pl.UInt32) + dense_code(big, ["__block64"])).alias("block")
        ).select(ID, "block")
    return pl.concat([small, big.select(ID, "block")])


def _deterministic_pairs(
    records: pl.DataFrame, rule: DeterministicRule, codes: pl.Series
) -> tuple[pl.DataFrame, dict]:
    """Full pairs within small groups; a star to the smallest id in larger ones (enough to connect them)."""
    members = pl.DataFrame({ID: records[ID], "block": codes}).drop_nulls("block")
    sizes = members.group_by("block").len()
    big = sizes.filter(pl.col("len") > rule.max_block_size)["block"].implode()
    small_pairs = _pairs_within_blocks(members.filter(~pl.col("block").is_in(big)))
    star = (
        members.filter(pl.col("block").is_in(big))
        .with_columns(pl.col(ID).min().over("block").alias("id_l"))
        .filter(pl.col(ID) != pl.col("id_l"))
        .select("id_l", pl.col(ID).alias("id_r"))
    )
    stats = {
        "rule": rule.name,
        "keys": ", ".join(rule.columns),
        "records_blocked": members.height,
        "blocks": sizes.height,
        "largest_raw_block": int(sizes["len"].max() or 0),
        "oversize_blocks": int((sizes["len"] > rule.max_block_size).sum()),
        "oversize_records": int(sizes.filter(pl.col("len") > rule.max_block_size)["len"].sum()),
        "action": "star" if star.height else "none",
        "split_blocks": 0,
        "sampled_blocks": 0,
        "skipped_blocks": 0,
        "largest_block": int(sizes["len"].max() or 0),
    }
    return pl.concat([small_pairs, star]), stats


def _keep_link_type(pairs: pl.DataFrame, records: pl.DataFrame, settings: LinkageSettings) -> pl.DataFrame:
    if settings.link_type != "link_only":
        return pairs
    source = dense_code(records, [settings.source_column])
    return pairs.filter(
        pl.Series(source).gather(pairs["id_l"]) != pl.Series(source).gather(pairs["id_r"])
    )


def pair_key(id_l: pl.Expr, id_r: pl.Expr) -> pl.Expr:
    return id_l.cast(pl.UInt64) * (1 << 32) + id_r.cast(pl.UInt64)


def within_partition(codes: pl.Series, partitions: pl.Series | None) -> pl.Series:
    """Block codes that also differ between partitions (null stays null: not blocked)."""
    if partitions is None:
        return codes
    frame = pl.DataFrame({"block": codes, "partition": partitions})
    combined = dense_code(frame, ["block", "partition"])
    return frame.select(pl.when(pl.col("block").is_not_null()).then(combined).alias("block")).to_series()


def partition_codes(records: pl.DataFrame, settings: LinkageSettings) -> pl.Series | None:
    if not settings.partition_column:
        return None
    return dense_code(records, [settings.partition_column])


def block(records: pl.DataFrame, settings: LinkageSettings) -> BlockingResult:
    rule_names: list[str] = []
    rule_codes: dict[str, pl.Series] = {}
    produced: list[pl.DataFrame] = []
    reports: list[dict] = []
    partitions = partition_codes(records, settings)
    for rule in settings.blocking_rules:
        codes = within_partition(block_codes(records, rule.keys), partitions)
        pairs, stats = _rule_pairs(records, rule, codes, settings.training.seed)
        stats["kind"] = "blocking"
        rule_codes[rule.name] = codes
        produced.append(_tagged(_keep_link_type(pairs, records, settings), len(rule_names)))
        reports.append(stats)
        rule_names.append(rule.name)
    for rule in settings.deterministic_rules:
        codes = within_partition(
            block_codes(records, [BlockKey(column=c) for c in rule.columns], rule.where), partitions
        )
        pairs, stats = _deterministic_pairs(records, rule, codes)
        stats["kind"] = "deterministic"
        rule_codes[rule.name] = codes
        produced.append(_tagged(_keep_link_type(pairs, records, settings), len(rule_names)))
        reports.append(stats)
        rule_names.append(rule.name)
    if len(rule_names) > 255:
        raise ValueError("at most 255 rules")

    pairs, produced_by, new_by = _first_rule_per_pair(produced, records.height)
    for index, stats in enumerate(reports):
        stats["pairs_produced"] = produced_by.get(index, 0)
        stats["new_pairs"] = new_by.get(index, 0)
    report = pl.DataFrame(reports).select(
        "rule",
        "kind",
        "keys",
        "records_blocked",
        "blocks",
        "largest_raw_block",
        "largest_block",
        "oversize_blocks",
        "oversize_records",
        "action",
        "split_blocks",
        "sampled_blocks",
        "skipped_blocks",
        "pairs_produced",
        "new_pairs",
    )
    return BlockingResult(pairs=pairs, report=report, rule_names=rule_names, rule_codes=rule_codes)


def _tagged(pairs: pl.DataFrame, index: int) -> pl.DataFrame:
    return pairs.with_columns(pl.lit(index, pl.UInt8).alias("match_key"))


def _first_rule_per_pair(
    produced: list[pl.DataFrame], n_records: int
) -> tuple[pl.DataFrame, dict[int, int], dict[int, int]]:
    """Each pair once, with the first rule that produced it; sorted by (id_l, id_r)."""
    everything = pl.concat(produced)
    produced_by = dict(zip(*np.unique(everything["match_key"].to_numpy(), return_counts=True)))
    bits = max(1, (n_records - 1).bit_length())
    if 2 * bits + 8 <= 64:
        # One sort of (id_l, id_r, rule) packed in a uint64; the first of each pair run is its first rule.
        shift = np.uint64(bits)
        packed = (
            (everything["id_l"].to_numpy().astype(np.uint64) << shift)
            | everything["id_r"].to_numpy().astype(np.uint64)
        ) << np.uint64(8) | everything["match_key"].to_numpy().astype(np.uint64)
        packed.sort()
        key = packed >> np.uint64(8)
        first = packed[np.r_[True, key[1:] != key[:-1]]] if len(packed) else packed
        key = first >> np.uint64(8)
        pairs = pl.DataFrame(
            {
                "id_l": (key >> shift).astype(np.uint32),
                "id_r": (key & ((np.uint64(1) << shift) - np.uint64(1))).astype(np.uint32),
                "match_key": (first & np.uint64(255)).astype(np.uint8),
            }
        )
    else:
        pairs = (
            everything.group_by("id_l", "id_r").agg(pl.col("match_key").min()).sort("id_l", "id_r")
        )
    new_by = dict(zip(*np.unique(pairs["match_key"].to_numpy(), return_counts=True)))
    as_int = lambda counts: {int(k): int(v) for k, v in counts.items()}  # noqa: E731
    return pairs, as_int(produced_by), as_int(new_by)


def rules_satisfied(pairs: pl.DataFrame, codes: pl.Series) -> pl.Series:
    """True where both records of a pair have the same non-null block code of a rule."""
    left = codes.gather(pairs["id_l"])
    right = codes.gather(pairs["id_r"])
    return (left == right).fill_null(False)


def total_comparable_pairs(records: pl.DataFrame, settings: LinkageSettings) -> int:
    n = records.height
    if settings.link_type == "link_only":
        sizes = records.group_by(settings.source_column).len()["len"].to_list()
        return (sum(sizes) ** 2 - sum(s * s for s in sizes)) // 2
    return n * (n - 1) // 2


def expected_pair_count(sizes: list[int]) -> int:
    return sum(math.comb(s, 2) for s in sizes)
