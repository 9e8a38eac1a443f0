"""Connected components over an edge frame, vectorised (label propagation with pointer jumping)."""

from __future__ import annotations

import polars as pl

MAX_ROUNDS = 200


def connected_components(edges: pl.DataFrame, nodes: pl.Series | None = None) -> pl.DataFrame:
    """``node, component`` for every node of ``edges`` (columns ``a``, ``b``) and of ``nodes``.

    ``component`` is the smallest node of the component, so the labelling does
    not depend on row order.
    """
    pairs = edges.select(pl.col("a").cast(pl.String), pl.col("b").cast(pl.String)).filter(
        pl.col("a").is_not_null() & pl.col("b").is_not_null() & (pl.col("a") != pl.col("b"))
    )
    both = pl.concat([pairs, pairs.select(a="b", b="a")]).unique()
    node_list = [both.get_column("a")]
    if nodes is not None:
        node_list.append(nodes.cast(pl.String).drop_nulls())
    all_nodes = pl.concat(node_list).unique().alias("node")
    labels = pl.DataFrame({"node": all_nodes}).with_columns(component=pl.col("node"))
    if both.height == 0:
        return labels
    # Start from each node's smallest neighbour, then alternate a hop and a jump.
    for _ in range(MAX_ROUNDS):
        hop = (
            both.join(labels, left_on="b", right_on="node")
            .group_by("a")
            .agg(pl.col("component").min().alias("neighbour"))
        )
        updated = (
            labels.join(hop, left_on="node", right_on="a", how="left")
            .with_columns(component=pl.min_horizontal("component", "neighbour"))
            .drop("neighbour")
        )
        # pointer jumping: a node takes its label's label
        updated = (
            updated.join(updated.rename({"node": "component", "component": "jump"}), on="component", how="left")
            .with_columns(component=pl.min_horizontal("component", "jump"))
            .drop("jump")
        )
        changed = updated.join(labels, on="node", suffix="_old").filter(
            pl.col("component") != pl.col("component_old")
        ).height
        labels = updated
        if changed == 0:
            break
    return labels
