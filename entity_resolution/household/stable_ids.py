"""Stable identifiers for clusters (persons, households) across runs.

Clustering hands out throw-away labels; analysts join on ``person_id`` and
``household_id`` month after month. This module turns a fresh clustering into
stable IDs given the previous assignment:

- same input, same IDs, whatever the row order: a new ID is derived from the
  smallest member key of its cluster (sha1, so it does not change with the
  polars version the way ``Expr.hash`` may);
- an entity still there keeps its ID (the previous ID goes to the cluster that
  holds most of its former members);
- a split keeps the ID with the part that holds the original head (when heads
  are known), else the larger overlap; the other parts get new IDs;
- a merge keeps the older ID (earliest ``created``; ties: the ID more members
  carried, then the smaller);
- every created / merged / split ID is written to a lineage table.

Everything here is a pure function over frames.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl

ASSIGNMENT_SCHEMA: dict[str, pl.DataType] = {
    "member": pl.String,
    "cluster": pl.String,
    "id": pl.String,
    "created": pl.Date,
    "is_head": pl.Boolean,
}

LINEAGE_SCHEMA: dict[str, pl.DataType] = {
    "entity": pl.String,
    "id": pl.String,
    "event": pl.String,  # created | merged | split | kept
    "other_id": pl.String,
    "snapshot_date": pl.Date,
    "reason": pl.String,
}

ID_HASH_CHARS = 12


def derive_id(prefix: str, key: str, salt: int = 0) -> str:
    """A new ID from a member key: ``<prefix><12 hex>``; ``salt`` resolves collisions."""
    text = key if salt == 0 else f"{key}#{salt}"
    return prefix + hashlib.sha1(text.encode("utf-8")).hexdigest()[:ID_HASH_CHARS].upper()


def _new_ids(prefix: str, keys: list[str], used: set[str]) -> list[str]:
    """IDs for ``keys`` (sorted, so the salt a collision gets does not depend on row order)."""
    sha1 = hashlib.sha1
    first_choice = [prefix + sha1(key.encode("utf-8")).hexdigest()[:ID_HASH_CHARS].upper() for key in keys]
    if used.isdisjoint(first_choice) and len(set(first_choice)) == len(first_choice):
        used.update(first_choice)
        return first_choice
    out: list[str] = []
    for key, candidate in zip(keys, first_choice):
        salt = 0
        while candidate in used:
            salt += 1
            candidate = derive_id(prefix, key, salt)
        used.add(candidate)
        out.append(candidate)
    return out


def _normalise_clusters(clusters: pl.DataFrame) -> pl.DataFrame:
    head = pl.col("is_head").cast(pl.Boolean).fill_null(False) if "is_head" in clusters.columns else pl.lit(False)
    return clusters.select(
        pl.col("member").cast(pl.String), pl.col("cluster").cast(pl.String), is_head=head
    )


def _normalise_previous(previous: pl.DataFrame | None) -> pl.DataFrame:
    if previous is None or previous.height == 0:
        return pl.DataFrame(schema={"member": pl.String, "prev_id": pl.String, "prev_created": pl.Date, "prev_head": pl.Boolean})
    created = pl.col("created").cast(pl.Date) if "created" in previous.columns else pl.lit(None, dtype=pl.Date)
    head = pl.col("is_head").cast(pl.Boolean).fill_null(False) if "is_head" in previous.columns else pl.lit(False)
    return previous.select(
        pl.col("member").cast(pl.String), prev_id=pl.col("id").cast(pl.String), prev_created=created, prev_head=head
    ).unique("member", keep="first")


def assign_stable_ids(
    previous: pl.DataFrame | None,
    clusters: pl.DataFrame,
    *,
    entity: str = "person",
    prefix: str = "P",
    snapshot_date: dt.date | None = None,
    used_ids: set[str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Stable IDs for ``clusters`` given the ``previous`` assignment.

    ``clusters``: ``member`` (stable member key), ``cluster`` (this run's label),
    optional ``is_head``. ``previous``: ``member``, ``id``, optional ``created``
    and ``is_head`` (an earlier output of this function). ``used_ids``: IDs
    handed out before and never to be reused for another entity (retired IDs).

    Returns ``(assignment, lineage)``: assignment has ``member, cluster, id,
    created, is_head``; lineage has ``entity, id, event, other_id,
    snapshot_date, reason``.
    """
    members = _normalise_clusters(clusters)
    prev = _normalise_previous(previous)
    by_cluster = members.group_by("cluster").agg(
        min_member=pl.col("member").min(), size=pl.len()
    )

    overlap = (
        members.join(prev, on="member", how="inner")
        .group_by("cluster", "prev_id")
        .agg(
            n=pl.len(),
            holds_head=pl.col("prev_head").any(),
            prev_created=pl.col("prev_created").min(),
        )
        .join(by_cluster.select("cluster", "min_member"), on="cluster")
    )
    # Each previous ID is claimed by one cluster: the one with its head, else
    # the one with most of its members.
    claims = overlap.sort(
        ["prev_id", "holds_head", "n", "min_member"], descending=[False, True, True, False]
    ).unique("prev_id", keep="first")
    # A cluster that claims several IDs is a merge: the older ID survives.
    # IDs created the same day: the one carried by more of the members survives.
    kept = claims.sort(
        ["cluster", "prev_created", "n", "prev_id"], descending=[False, False, True, False], nulls_last=True
    ).unique("cluster", keep="first").select("cluster", id="prev_id", created="prev_created")
    absorbed = claims.join(kept, on="cluster").filter(pl.col("prev_id") != pl.col("id"))

    fresh = (
        by_cluster.join(kept, on="cluster", how="anti")
        .sort("min_member")
    )
    used = set(used_ids or ()) | set(prev.get_column("prev_id").unique().to_list()) | set(
        kept.get_column("id").to_list()
    )
    fresh = fresh.with_columns(
        id=pl.Series(_new_ids(prefix, fresh.get_column("min_member").to_list(), used), dtype=pl.String),
        created=pl.lit(snapshot_date, dtype=pl.Date),
    )
    ids = pl.concat([kept, fresh.select("cluster", "id", "created")], how="vertical")
    assignment = members.join(ids, on="cluster", how="left").select(list(ASSIGNMENT_SCHEMA)).cast(ASSIGNMENT_SCHEMA)

    # Lineage. A fresh cluster that shares members with a previous entity split off it.
    split_from = (
        overlap.join(fresh.select("cluster", "id"), on="cluster")
        .sort(["cluster", "n", "prev_id"], descending=[False, True, False])
        .unique("cluster", keep="first")
    )
    created = fresh.join(split_from.select("cluster"), on="cluster", how="anti")
    date = pl.lit(snapshot_date, dtype=pl.Date)
    ent = pl.lit(entity)
    lineage_parts = [
        created.select(ent.alias("entity"), "id", event=pl.lit("created"), other_id=pl.lit(None, dtype=pl.String),
                       snapshot_date=date, reason=pl.lit("new cluster")),
        split_from.select(ent.alias("entity"), "id", event=pl.lit("split"), other_id="prev_id", snapshot_date=date,
                          reason=pl.format("split off {} ({} of its members)", "prev_id", "n")),
        split_from.select(ent.alias("entity"), id="prev_id", event=pl.lit("kept"), other_id="id", snapshot_date=date,
                          reason=pl.lit("kept by the part holding the head or most members after a split")),
        absorbed.select(ent.alias("entity"), id="prev_id", event=pl.lit("merged"), other_id="id", snapshot_date=date,
                        reason=pl.format("merged into {} (the older id is kept)", "id")),
        absorbed.select(ent.alias("entity"), "id", event=pl.lit("kept"), other_id="prev_id", snapshot_date=date,
                        reason=pl.lit("older id kept in a merge")),
    ]
    lineage = (
        pl.concat([p.cast(LINEAGE_SCHEMA) for p in lineage_parts], how="vertical")
        .sort("id", "event", "other_id", nulls_last=True)
    )
    return assignment.sort("member"), lineage
