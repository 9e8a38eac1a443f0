"""Connected components over an edge frame of string node keys, vectorised.

Node keys are numbered by their sorted order, components are found with the
engine's numpy union-find (``clustering.connected_components``), and each
component is named by its smallest key, so the labelling does not depend on
row order.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from entity_resolution.clustering import connected_components as components_of_numbered


def connected_components(edges: pl.DataFrame, nodes: pl.Series | None = None) -> pl.DataFrame:
    """``node, component`` for every node of ``edges`` (columns ``a``, ``b``) and of ``nodes``.

    ``component`` is the smallest node of the component.
    """
    pairs = edges.select(pl.col("a").cast(pl.String), pl.col("b").cast(pl.String)).filter(
        pl.col("a").is_not_null() & pl.col("b").is_not_null() & (pl.col("a") != pl.col("b"))
    )
    node_list = [pairs.get_column("a"), pairs.get_column("b")]
    if nodes is not None:
        node_list.append(nodes.cast(pl.String).drop_nulls())
    # Sorted unique keys: the number of a node is its rank, so the smallest number is the smallest key.
    all_nodes = pl.concat(node_list).unique().sort().alias("node")
    if pairs.height == 0:
        return pl.DataFrame({"node": all_nodes, "component": all_nodes})
    numbers = pl.DataFrame({"node": all_nodes}).with_row_index("number")
    numbered = pairs.join(numbers.rename({"node": "a", "number": "l"}), on="a").join(
        numbers.rename({"node": "b", "number": "r"}), on="b"
    )
    labels = components_of_numbered(
        all_nodes.len(), numbered.get_column("l").to_numpy(), numbered.get_column("r").to_numpy()
    )
    return pl.DataFrame({"node": all_nodes, "component": all_nodes.gather(np.asarray(labels))})
