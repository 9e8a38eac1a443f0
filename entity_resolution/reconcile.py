"""Joining partitions back up: clusters of different partitions that agree on
an ``across_partitions`` deterministic rule become one (e.g. a person who moved
county, recognised by a valid ID number and the same name).

Runs after every partition is clustered, on the clusters of all of them, so
linking partitions apart and linking everything at once give one result.
Only clusters are joined, never split: the rule's agreement is as strong as
the within-partition deterministic links (a cluster holds at most one valid
ID, so two clusters joined on it still hold one).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from entity_resolution.blocking import block_codes
from entity_resolution.clustering import connected_components
from entity_resolution.records import ID
from entity_resolution.settings import BlockKey, LinkageSettings


def cross_partition_edges(records: pl.DataFrame, settings: LinkageSettings) -> pl.DataFrame:
    """``id_l, id_r, rule``: one record per (agreement group, partition), joined to the group's first."""
    partition = settings.partition_column
    rules = [r for r in settings.deterministic_rules if r.across_partitions]
    edges = [pl.DataFrame(schema={"id_l": pl.UInt32, "id_r": pl.UInt32, "rule": pl.String})]
    if not partition or not rules:
        return edges[0]
    for rule in rules:
        codes = block_codes(records, [BlockKey(column=c) for c in rule.columns], rule.where)
        members = (
            records.select(ID, pl.col(partition).alias("__partition"))
            .with_columns(code=codes)
            .drop_nulls("code")
            .filter(pl.col("__partition").n_unique().over("code") > 1)
        )
        representatives = members.group_by("code", "__partition").agg(pl.col(ID).min())
        edges.append(
            representatives.with_columns(id_l=pl.col(ID).min().over("code"))
            .filter(pl.col(ID) != pl.col("id_l"))
            .select("id_l", id_r=pl.col(ID), rule=pl.lit(rule.name))
        )
    return pl.concat(edges).sort("id_l", "id_r", "rule").unique(["id_l", "id_r"], keep="first", maintain_order=True)


def join_clusters(cluster_of_record: np.ndarray, edges: pl.DataFrame) -> np.ndarray:
    """Per record, the smallest record id of its cluster after joining the clusters of ``edges``'s ends."""
    n = len(cluster_of_record)
    label = cluster_of_record.astype(np.int64)
    if edges.height:
        joined = connected_components(n, label[edges["id_l"].to_numpy()], label[edges["id_r"].to_numpy()])
        label = joined[label]
    # name each cluster by its smallest record id, as clustering does
    smallest = np.full(n, n, dtype=np.int64)
    np.minimum.at(smallest, label, np.arange(n, dtype=np.int64))
    return smallest[label]


def reconcile_clusters(
    clusters: pl.DataFrame, records: pl.DataFrame, settings: LinkageSettings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(clusters, edges)``: the engine's cluster output (keys, cluster_id, cluster_size, ...)
    with clusters joined across partitions, and the joining edges (``id_l, id_r, rule``).

    ``records`` are ALL prepared records (their ``__id`` numbers the records of every partition).
    """
    keys = settings.key_columns
    edges = cross_partition_edges(records, settings)
    if not edges.height:
        return clusters, edges
    numbered = clusters.join(records.select(ID, *keys), on=keys, how="left", nulls_equal=True)
    ordered = numbered.sort(ID)
    if ordered[ID].null_count() or ordered.height != records.height:
        raise ValueError("the clusters do not cover the records one to one")
    first_of_cluster = ordered.select(pl.col(ID).min().over("cluster_id")).to_series().to_numpy()
    label = join_clusters(first_of_cluster, edges)
    return (
        ordered.with_columns(__label=pl.Series(label))
        .with_columns(
            cluster_id=pl.col("__label").rank("dense").cast(pl.UInt32).sub(1),
            cluster_size=pl.len().over("__label").cast(pl.UInt32),
        )
        .select(clusters.columns),
        edges,
    )
