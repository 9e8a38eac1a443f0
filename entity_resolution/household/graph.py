"""Connected components over an edge frame of string node keys, vectorised.

Node keys are numbered, components are found with the engine's numpy
union-find (``clustering.connected_components``), and each component is named
by its smallest key, so the labelling does not depend on row order.
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
    ends = pl.concat([pairs.get_column("a"), pairs.get_column("b")])
    if nodes is not None:
        ends = pl.concat([ends, nodes.cast(pl.String).drop_nulls()])
    # Keys are numbered through a 64-bit hash and a numeric sort (a string sort
    # of millions of keys costs seconds); a collision among a few million keys
    # has a chance of about 1e-7. The hash only numbers nodes inside this call:
    # what comes out (smallest key per component) does not depend on it.
    hashes = ends.hash(seed=0).to_numpy()
    _, first, numbers = np.unique(hashes, return_index=True, return_inverse=True)
    n_nodes = len(first)
    if pairs.height:
        labels = components_of_numbered(n_nodes, numbers[: pairs.height], numbers[pairs.height : 2 * pairs.height])
    else:
        labels = np.arange(n_nodes)
    named = pl.DataFrame({"node": ends.gather(first), "label": labels})
    return named.with_columns(component=pl.col("node").min().over("label")).select("node", "component")
