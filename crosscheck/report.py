"""What Hearth made of a crosscheck drop: row accounting, linkage quality (and which records it mislinks), rule quality."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from entity_resolution.household.inputs import load_frames
from entity_resolution.household.pipeline import link_households
from entity_resolution.household.quality import MENTION_KEY, id_stability, linkage_quality, load_truth
from sources import reports
from sources.registry import StateDir, load_registry


def accounting(landing: Path, state_dir: Path) -> pl.DataFrame:
    """Per file written: what was expected beside what the registry recorded, and whether it was reported."""
    files = pl.read_parquet(Path(landing) / "_truth" / "files.parquet")
    registry = load_registry(StateDir(state_dir)).select(
        "department", "file_name", "status", "rows_read", "rows_accepted", "rows_quarantined", "blank_rows", "reason")
    joined = files.join(registry, on=["department", "file_name"], how="left")
    reported = [reports.report_path(Path(landing) / d, n).exists() for d, n in
                joined.select("department", "file_name").iter_rows()]
    joined = joined.with_columns(reported=pl.Series(reported, dtype=pl.Boolean))
    # A file dropped twice: whichever of the two names Hearth read first is ingested, the other is a duplicate.
    counts = ["status", "rows_read", "rows_accepted", "rows_quarantined", "blank_rows"]
    copies = joined.filter(pl.col("copy_of").is_not_null()).select(
        pl.col("copy_of").alias("file_name"), "department", *(pl.col(c).alias(f"copy_{c}") for c in counts))
    if copies.height:
        both_read = joined.filter(pl.col("status") == "ingested").join(
            copies.filter(pl.col("copy_status") == "ingested"), on=["department", "file_name"], how="semi")
        joined = joined.with_columns(
            double_read=pl.col("file_name").is_in(both_read["file_name"].implode())
            | pl.col("copy_of").is_in(both_read["file_name"].implode()).fill_null(False))
        joined = joined.join(copies, on=["department", "file_name"], how="left").with_columns(
            pl.when((pl.col("status") == "duplicate") & (pl.col("copy_status") == "ingested"))
            .then(pl.col(f"copy_{c}")).otherwise(pl.col(c)).alias(c) for c in counts
        ).drop(f"copy_{c}" for c in counts)
    data = pl.col("broken").is_null() & pl.col("copy_of").is_null()
    if "double_read" not in joined.columns:
        joined = joined.with_columns(double_read=pl.lit(False))
    return joined.with_columns(
        ok=pl.when(pl.col("broken").is_not_null())
        .then(pl.col("reported") & (pl.col("status").is_null() | (pl.col("status") != "ingested")))
        .when(pl.col("copy_of").is_not_null()).then(~pl.col("double_read"))
        .otherwise((pl.col("status") == "ingested") & ~pl.col("double_read") & (pl.col("rows_read") == pl.col("rows_written"))
                   & (pl.col("rows_accepted") == pl.col("expect_accepted"))
                   & (pl.col("rows_quarantined") == pl.col("expect_quarantined"))
                   & (pl.col("blank_rows") == pl.col("expect_blank"))
                   & (pl.col("rows_read") == pl.col("rows_accepted") + pl.col("rows_quarantined")
                      + pl.col("blank_rows"))),
        data_file=data,
    )


def linkage(landing: Path, state_dir: Path) -> dict:
    """Link the ingested state twice (first snapshot, then all with the first run's IDs), as next month's run."""
    truth = load_truth(landing)
    frames = load_frames(state_dir)
    dates = sorted(set().union(*(set(f.get_column("snapshot_date").unique().to_list()) for f in frames.values())))
    first = link_households({d: f.filter(pl.col("snapshot_date") < dates[-1]) for d, f in frames.items()})
    second = link_households(frames, previous_state=first.state)
    result = {"snapshots": [str(d) for d in dates], "quality": linkage_quality(second.mentions, truth),
              "id_stability": id_stability(first.mentions, second.mentions, truth)}
    result["errors"] = mislinks(second.mentions, truth)
    result["unmatched_mentions"] = (
        second.mentions.join(truth.select(MENTION_KEY).unique(), on=MENTION_KEY, how="anti")
        .group_by("department", "role").len().sort("department", "role").rows())
    result["truth_mentions_not_linked"] = (
        truth.unique(MENTION_KEY).join(second.mentions.select(MENTION_KEY), on=MENTION_KEY, how="anti")
        .group_by("department", "role").len().sort("department", "role").rows())
    return result


def mislinks(mentions: pl.DataFrame, truth: pl.DataFrame) -> dict:
    """Mentions on the wrong side of a person or household boundary, by department/role and by tag.

    A mention is *split off* when its predicted cluster is not the one most of its true entity's mentions
    sit in; *merged in* when its true entity is not the one most of its predicted cluster's mentions belong to.
    """
    keyed = truth.unique(MENTION_KEY).select(*MENTION_KEY, "person_key", "household_key", "tags")
    items = mentions.select(*MENTION_KEY, "person_id", "household_id").join(keyed, on=MENTION_KEY, how="inner")
    out = {}
    for level, predicted, true, within in (("person", "person_id", "person_key", []),
                                           ("household", "household_id", "household_key", ["snapshot_date"])):
        majority_pred = (items.group_by(*within, true, predicted).len().sort("len", descending=True)
                         .unique([*within, true], keep="first").select(*within, true, _major_pred=predicted))
        majority_true = (items.group_by(*within, predicted, true).len().sort("len", descending=True)
                         .unique([*within, predicted], keep="first").select(*within, predicted, _major_true=true))
        marked = items.join(majority_pred, on=[*within, true]).join(majority_true, on=[*within, predicted]).with_columns(
            split_off=pl.col(predicted) != pl.col("_major_pred"), merged_in=pl.col(true) != pl.col("_major_true"))
        wrong = marked.filter(pl.col("split_off") | pl.col("merged_in"))
        by_role = (marked.group_by("department", "role")
                   .agg(mentions=pl.len(), split_off=pl.col("split_off").sum(), merged_in=pl.col("merged_in").sum())
                   .sort("department", "role"))
        tags = marked.with_columns(tag=pl.col("tags").str.split(",")).explode("tag").filter(pl.col("tag") != "")
        by_tag = (tags.group_by("tag").agg(mentions=pl.len(), split_off=pl.col("split_off").sum(),
                                           merged_in=pl.col("merged_in").sum())
                  .with_columns(error_rate=((pl.col("split_off") + pl.col("merged_in")) / pl.col("mentions")).round(4))
                  .sort("error_rate", descending=True))
        out[level] = {"wrong_mentions": wrong.height, "by_role": by_role.rows(named=True),
                      "by_tag": by_tag.rows(named=True),
                      "examples": wrong.head(12).select(*MENTION_KEY, true, predicted, "tags", "split_off", "merged_in")
                      .rows(named=True)}
    return out


def rule_quality(warehouse: Path, landing: Path) -> dict:
    from warehouse.quality import rule_quality as measured

    return {rule: {"tp": q.true_positives, "fp": q.false_positives, "fn": q.false_negatives,
                   "precision": round(q.precision, 4), "recall": round(q.recall, 4)}
            for rule, q in measured(warehouse, Path(landing) / "_truth").items()}
