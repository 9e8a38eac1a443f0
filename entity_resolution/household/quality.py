"""Linkage quality against ground truth: pairwise precision / recall / F1 and ID stability.

Ground truth is ``hearth synth``'s ``_truth/records.parquet``: one row per
person a record mentions (``department, record_id, snapshot_date, role,
person_key, household_key``). Every count here is computed by group sizes
(pairs = n(n-1)/2), never by listing pairs.

- person: every mention is an item, its cluster the ``person_id``; a pair of
  mentions is a true match when they share ``person_key``.
- household: pairs are counted within each snapshot date (a household is a
  per-snapshot grouping; a split changes it), then summed.
- ID stability: of the entities that did not change between two runs (same
  truth members), the share whose ID in the second run is the one the first
  run gave.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

MENTION_KEY = ["department", "record_id", "snapshot_date", "role"]


def load_truth(synth_dir: str | Path) -> pl.DataFrame:
    truth = pl.read_parquet(Path(synth_dir) / "_truth" / "records.parquet")
    return truth.with_columns(
        pl.col("snapshot_date").cast(pl.Date), pl.col("record_id").cast(pl.String)
    )


def _pairs(sizes: pl.Expr) -> pl.Expr:
    return (sizes.cast(pl.Int64) * (sizes.cast(pl.Int64) - 1) // 2).sum()


def pairwise(items: pl.DataFrame, predicted: str, truth: str, within: list[str] | None = None) -> dict[str, float]:
    """Pairwise precision/recall/F1 of ``predicted`` against ``truth`` clusters of ``items`` rows."""
    within = within or []
    frame = items.filter(pl.col(predicted).is_not_null() & pl.col(truth).is_not_null())
    tp = frame.group_by(*within, predicted, truth).len().select(_pairs(pl.col("len"))).item()
    predicted_pairs = frame.group_by(*within, predicted).len().select(_pairs(pl.col("len"))).item()
    true_pairs = frame.group_by(*within, truth).len().select(_pairs(pl.col("len"))).item()
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 5), "recall": round(recall, 5), "f1": round(f1, 5),
            "true_pairs": true_pairs, "predicted_pairs": predicted_pairs, "true_positive_pairs": tp,
            "items": frame.height, "unmatched_items": items.height - frame.height}


def with_truth(mentions: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Mentions (``person_id``, ``household_id``) joined to their truth keys."""
    keyed = truth.select(*MENTION_KEY, "person_key", "household_key").unique(MENTION_KEY)
    return mentions.select(*MENTION_KEY, "person_id", "household_id").join(keyed, on=MENTION_KEY, how="left")


def linkage_quality(mentions: pl.DataFrame, truth: pl.DataFrame) -> dict[str, dict[str, float]]:
    items = with_truth(mentions, truth)
    return {
        "person": pairwise(items, "person_id", "person_key"),
        "household": pairwise(items, "household_id", "household_key", within=["snapshot_date"]),
    }


def id_stability(first: pl.DataFrame, second: pl.DataFrame, truth: pl.DataFrame) -> dict[str, float]:
    """Share of unchanged entities that kept their ID from run ``first`` to run ``second``.

    ``first`` / ``second``: mention frames of two runs (the second sees more
    snapshots). A person is unchanged when it is a truth person of the first
    run; its mentions from the first run must carry the same ``person_id`` in
    the second. A household is unchanged when its truth members at the first
    run's last snapshot are its truth members at the second's; each member
    must keep its ``household_id``: the household holding most of the
    member's mentions at the first run's last snapshot in the first run, and
    at the second's in the second. ``household_entity`` counts households
    instead of members: a household kept its ID when the ID most of its
    members' records carry is the same in both runs. (Counting every pair of households a
    member's mentions sit in, as an earlier version did, scores a member
    whose records are split over two households the same way in both runs
    as half lost although nothing changed.)
    """
    a, b = with_truth(first, truth), with_truth(second, truth)
    same = a.join(b.select(*MENTION_KEY, person_id_2="person_id"), on=MENTION_KEY, how="inner")
    person = same.filter(pl.col("person_key").is_not_null()).select(
        kept=(pl.col("person_id") == pl.col("person_id_2")).mean()
    ).item()

    last_1 = a.get_column("snapshot_date").max()
    last_2 = b.get_column("snapshot_date").max()

    def members(frame: pl.DataFrame, date) -> pl.DataFrame:
        at = frame.filter(pl.col("snapshot_date") == date)
        return at.group_by("household_key").agg(members=pl.col("person_key").unique().sort())

    unchanged = members(a, last_1).join(members(b, last_2), on=["household_key", "members"], how="semi")

    def main_household(frame: pl.DataFrame, date, of: str) -> pl.DataFrame:
        # The household ID most of the records of each ``of`` carry at ``date`` (ties: the smaller ID).
        # Per member: a member whose records sit in two households (one person's records not all
        # linked to each other) has one home. Per household: the ID the household is known by.
        return (
            frame.filter(pl.col("snapshot_date") == date).join(unchanged, on="household_key", how="semi")
            .group_by(of, "household_id").len()
            .sort([of, "len", "household_id"], descending=[False, True, False])
            .unique(of, keep="first")
            .select(of, "household_id")
        )

    def kept(of: str) -> float | None:
        return (
            main_household(a, last_1, of).join(main_household(b, last_2, of), on=of, suffix="_2")
            .select(kept=(pl.col("household_id") == pl.col("household_id_2")).mean()).item()
        )

    kept_households, kept_entities = kept("person_key"), kept("household_key")
    # The earlier count (every pair), kept so that figures measured before can be compared.
    ids_1 = a.filter(pl.col("snapshot_date") == last_1).select("person_key", "household_key", h1="household_id")
    ids_2 = b.filter(pl.col("snapshot_date") == last_2).select("person_key", h2="household_id")
    every_pair = (
        ids_1.join(unchanged, on="household_key", how="semi").join(ids_2, on="person_key")
        .unique(["person_key", "h1", "h2"])
        .select(kept=(pl.col("h1") == pl.col("h2")).mean()).item()
    )
    return {"person": round(person or 0.0, 5), "household": round(kept_households or 0.0, 5),
            "household_entity": round(kept_entities or 0.0, 5),
            "household_every_pair": round(every_pair or 0.0, 5)}
