"""Clusters from linked pairs, then constraints.

1. Connected components over the `link` edges, vectorised (hook-and-compress
   over numpy arrays: no Python loop over edges or records).
2. Clusters that break a constraint, or that look like a chain, are found with
   polars group-bys and only those (few, small) clusters are rebuilt in Python:
   - hard constraints (two different valid values of a `cannot_link` column;
     two records of the same `one_per_group` group that are not exact
     duplicates): edges are added back strongest first (deterministic edges
     first), and an edge that would join two parts whose union breaks a
     constraint is left out. Every left-out edge is the weakest link on some
     path between the conflicting records, i.e. what cutting edges in
     ascending weight order would cut, without cutting edges that don't
     matter.
   - runaway chains: a weak edge (below `thresholds.link + weak_edge_margin`)
     that is the only thing holding two groups of at least two records
     together (a bridge) is cut, weakest first; a cluster whose share of linked
     pairs is below `min_density` loses its weakest edges until it splits.
3. A cluster is named by its smallest record id, and every tie is broken by
   ids, so the result does not depend on the input order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from entity_resolution.records import ID, dense_code
from entity_resolution.settings import LinkageSettings

NO_VALUE = -1


@dataclass
class ClusterResult:
    assignments: pl.DataFrame  # __id, cluster, method, match_weight
    cut_edges: pl.DataFrame  # id_l, id_r, match_weight, method, reason


def connected_components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Label of each node = smallest node id in its component."""
    parent = np.arange(n, dtype=np.int64)
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    while True:
        root_l, root_r = parent[left], parent[right]
        differ = root_l != root_r
        if not differ.any():
            return parent
        low = np.minimum(root_l[differ], root_r[differ])
        high = np.maximum(root_l[differ], root_r[differ])
        # Roots hook under a smaller root: no cycles, and the final root is the component's minimum.
        np.minimum.at(parent, high, low)
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        left, right = left[differ], right[differ]


def _constraint_codes(records: pl.DataFrame, settings: LinkageSettings) -> dict[str, np.ndarray]:
    """Per-record integer codes for each constraint; NO_VALUE where the constraint does not apply."""
    codes: dict[str, np.ndarray] = {}
    for constraint in settings.cannot_link:
        valid = pl.col(constraint.column).is_not_null()
        if constraint.valid_column:
            valid = valid & pl.col(constraint.valid_column).is_in(constraint.valid_values)
        raw = dense_code(records, [constraint.column]).cast(pl.Int64)
        codes[f"cannot_link:{constraint.column}"] = (
            records.select(pl.when(valid).then(raw).otherwise(NO_VALUE)).to_series().to_numpy()
        )
    if settings.one_per_group:
        codes["group"] = dense_code(records, settings.one_per_group).cast(pl.Int64).to_numpy()
        codes["duplicate"] = dense_code(records, settings.exact_duplicate_columns).cast(pl.Int64).to_numpy()
    return codes


def _violating_clusters(labels: np.ndarray, codes: dict[str, np.ndarray]) -> set[int]:
    frame = pl.DataFrame({"cluster": labels, **codes})
    multi = frame.filter(pl.len().over("cluster") > 1)
    bad: set[int] = set()
    for name in codes:
        if name.startswith("cannot_link:"):
            conflict = (
                multi.filter(pl.col(name) != NO_VALUE)
                .group_by("cluster")
                .agg(pl.col(name).n_unique())
                .filter(pl.col(name) > 1)
            )
            bad.update(conflict["cluster"].to_list())
    if "group" in codes:
        conflict = (
            multi.group_by("cluster", "group")
            .agg(pl.col("duplicate").n_unique())
            .filter(pl.col("duplicate") > 1)
        )
        bad.update(conflict["cluster"].to_list())
    return bad


def _chain_candidates(
    labels: np.ndarray, edges: pl.DataFrame, settings: LinkageSettings, weak: float
) -> set[int]:
    guard = settings.clustering
    sizes = pl.DataFrame({"cluster": labels}).group_by("cluster").len()
    with_cluster = edges.with_columns(pl.Series("cluster", labels[edges["id_l"].to_numpy()]))
    suspects: set[int] = set()
    if guard.chain_guard:
        weak_clusters = with_cluster.filter(~pl.col("deterministic") & (pl.col("match_weight") < weak))
        big = sizes.filter(pl.col("len") >= 4)["cluster"].implode()
        suspects.update(weak_clusters.filter(pl.col("cluster").is_in(big))["cluster"].unique().to_list())
    if guard.min_density > 0:
        density = (
            with_cluster.group_by("cluster")
            .len("edges")
            .join(sizes, on="cluster")
            .filter(pl.col("len") >= guard.density_min_size)
            .filter(pl.col("edges") / (pl.col("len") * (pl.col("len") - 1) / 2) < guard.min_density)
        )
        suspects.update(density["cluster"].to_list())
    return suspects


class _Parts:
    """Union-find over one cluster's records, tracking what each part holds for the constraints."""

    def __init__(self, nodes: list[int], codes: dict[str, np.ndarray]):
        self.parent = {n: n for n in nodes}
        self.cannot = {
            n: {name: ({int(c[n])} if c[n] != NO_VALUE else set()) for name, c in codes.items() if name.startswith("cannot_link:")}
            for n in nodes
        }
        has_groups = "group" in codes
        self.groups = {
            n: ({int(codes["group"][n]): int(codes["duplicate"][n])} if has_groups else {}) for n in nodes
        }

    def find(self, node: int) -> int:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def conflict(self, a: int, b: int) -> str | None:
        for name, values in self.cannot[a].items():
            if values and self.cannot[b][name] and values != self.cannot[b][name]:
                return name
        small, large = sorted((self.groups[a], self.groups[b]), key=len)
        for group, duplicate in small.items():
            if large.get(group, duplicate) != duplicate:
                return "one_per_group"
        return None

    def union(self, a: int, b: int) -> None:
        low, high = min(a, b), max(a, b)
        self.parent[high] = low
        for name in self.cannot[low]:
            self.cannot[low][name] |= self.cannot[high][name]
        self.groups[low].update(self.groups[high])
        del self.cannot[high], self.groups[high]


def _components(nodes: list[int], edges: list[tuple]) -> list[list[int]]:
    adjacency: dict[int, list[int]] = {n: [] for n in nodes}
    for l, r, *_ in edges:
        adjacency[l].append(r)
        adjacency[r].append(l)
    seen: set[int] = set()
    pieces = []
    for start in sorted(nodes):
        if start in seen:
            continue
        stack, piece = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            piece.append(node)
            for other in adjacency[node]:
                if other not in seen:
                    seen.add(other)
                    stack.append(other)
        pieces.append(sorted(piece))
    return pieces


def _bridges_with_sides(nodes: list[int], edges: list[tuple]) -> list[tuple[tuple, int, int]]:
    """Bridges of a connected graph, each with the number of nodes on either side (iterative Tarjan)."""
    adjacency: dict[int, list[tuple[int, int]]] = {n: [] for n in nodes}
    for index, (l, r, *_) in enumerate(edges):
        adjacency[l].append((r, index))
        adjacency[r].append((l, index))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    size: dict[int, int] = {}
    bridges = []
    root = min(nodes)
    order[root] = low[root] = 0
    size[root] = 1
    stack = [(root, -1, iter(adjacency[root]))]
    while stack:
        node, via, neighbours = stack[-1]
        advanced = False
        for other, index in neighbours:
            if index == via:
                continue
            if other in order:
                low[node] = min(low[node], order[other])
            else:
                order[other] = low[other] = len(order)
                size[other] = 1
                stack.append((other, index, iter(adjacency[other])))
                advanced = True
                break
        if advanced:
            continue
        stack.pop()
        if stack:
            parent = stack[-1][0]
            low[parent] = min(low[parent], low[node])
            size[parent] += size[node]
            if low[node] > order[parent]:
                bridges.append((edges[via], size[node], len(nodes) - size[node]))
    return bridges


def _edge_order(edge: tuple) -> tuple:
    l, r, weight, deterministic = edge
    return (not deterministic, -weight, l, r)


def _split_at_density(piece: list[int], edges: list[tuple]) -> list[tuple]:
    """Drop the weakest probabilistic edges until the piece falls apart (binary search on how many)."""
    ordered = sorted(edges, key=_edge_order)
    removable = sum(1 for e in ordered if not e[3])
    low, high = 0, removable  # dropping `high` weakest edges is the smallest drop known to split, if any
    if len(_components(piece, ordered[: len(ordered) - high])) == 1:
        return ordered
    while low < high:
        middle = (low + high) // 2
        if len(_components(piece, ordered[: len(ordered) - middle])) > 1:
            high = middle
        else:
            low = middle + 1
    return ordered[: len(ordered) - high]


def _break_chains(
    nodes: list[int], edges: list[tuple], settings: LinkageSettings, weak: float
) -> list[list[int]]:
    guard = settings.clustering
    pending, done = [(nodes, edges)], []
    while pending:
        piece, piece_edges = pending.pop()
        remaining = piece_edges
        if guard.chain_guard and len(piece) >= 4:
            # Removing a bridge never makes another edge a bridge, so all weak ones go in one round.
            weak_bridges = {
                (edge[0], edge[1])
                for edge, side_a, side_b in _bridges_with_sides(piece, piece_edges)
                if not edge[3] and edge[2] < weak and min(side_a, side_b) >= 2
            }
            remaining = [e for e in piece_edges if (e[0], e[1]) not in weak_bridges]
        if (
            len(remaining) == len(piece_edges)
            and guard.min_density > 0
            and len(piece) >= guard.density_min_size
            and len(piece_edges) / (len(piece) * (len(piece) - 1) / 2) < guard.min_density
        ):
            remaining = _split_at_density(piece, piece_edges)
        parts = _components(piece, remaining) if len(remaining) < len(piece_edges) else [piece]
        if len(parts) == 1:
            done.append(piece)
            continue
        for part in parts:
            members = set(part)
            pending.append((part, [e for e in remaining if e[0] in members]))
    return done


def _resolve_cluster(
    nodes: list[int],
    edges: list[tuple],
    codes: dict[str, np.ndarray],
    settings: LinkageSettings,
    weak: float,
) -> list[list[int]]:
    parts = _Parts(nodes, codes)
    kept = []
    for edge in sorted(edges, key=_edge_order):
        a, b = parts.find(edge[0]), parts.find(edge[1])
        if a != b:
            if parts.conflict(a, b):
                continue
            parts.union(a, b)
        kept.append(edge)
    pieces = []
    for piece in _components(nodes, kept):
        members = set(piece)
        pieces.extend(_break_chains(piece, [e for e in kept if e[0] in members], settings, weak))
    return pieces


def cluster(records: pl.DataFrame, scored_pairs: pl.DataFrame, settings: LinkageSettings) -> ClusterResult:
    n = records.height
    weak = settings.thresholds.link + settings.clustering.weak_edge_margin
    if settings.clustering.weak_edge_weight is not None:
        weak = settings.clustering.weak_edge_weight
    edges = scored_pairs.filter(pl.col("decision") == "link").select(
        "id_l",
        "id_r",
        pl.col("match_weight").cast(pl.Float64),
        (pl.col("method") != "probabilistic").alias("deterministic"),
        "method",
    )
    labels = connected_components(n, edges["id_l"].to_numpy(), edges["id_r"].to_numpy())
    codes = _constraint_codes(records, settings)
    suspects = sorted(_violating_clusters(labels, codes) | _chain_candidates(labels, edges, settings, weak))
    if suspects:
        labels = labels.copy()
        suspect_edges = (
            edges.with_columns(pl.Series("cluster", labels[edges["id_l"].to_numpy()]))
            .filter(pl.col("cluster").is_in(suspects))
            .sort("cluster", "id_l", "id_r")
        )
        suspect_nodes = (
            pl.DataFrame({ID: np.arange(n), "cluster": labels})
            .filter(pl.col("cluster").is_in(suspects))
            .sort("cluster", ID)
        )
        # One conversion to Python lists, then slices per cluster (a frame per cluster costs more than the work).
        edge_rows = list(zip(
            suspect_edges["id_l"].to_list(), suspect_edges["id_r"].to_list(),
            suspect_edges["match_weight"].to_list(), suspect_edges["deterministic"].to_list(),
        ))
        edge_clusters = suspect_edges["cluster"].to_numpy()
        node_ids = suspect_nodes[ID].to_list()
        node_clusters = suspect_nodes["cluster"].to_numpy()
        keys = np.asarray(suspects, dtype=node_clusters.dtype)
        edge_start = np.searchsorted(edge_clusters, keys, "left")
        edge_end = np.searchsorted(edge_clusters, keys, "right")
        node_start = np.searchsorted(node_clusters, keys, "left")
        node_end = np.searchsorted(node_clusters, keys, "right")
        for index in range(len(keys)):
            nodes = node_ids[node_start[index] : node_end[index]]
            cluster_edges = edge_rows[edge_start[index] : edge_end[index]]
            for piece in _resolve_cluster(nodes, cluster_edges, codes, settings, weak):
                labels[piece] = min(piece)
    return ClusterResult(_assignments(labels, edges), _cut_edges(labels, edges, codes))


def _assignments(labels: np.ndarray, edges: pl.DataFrame) -> pl.DataFrame:
    kept = edges.filter(
        pl.Series(labels[edges["id_l"].to_numpy()]) == pl.Series(labels[edges["id_r"].to_numpy()])
    )
    ends = pl.concat(
        [
            kept.select(pl.col("id_l").alias(ID), "match_weight", "deterministic", "method"),
            kept.select(pl.col("id_r").alias(ID), "match_weight", "deterministic", "method"),
        ]
    )
    best = ends.sort([ID, "deterministic", "match_weight"], descending=[False, True, True]).group_by(
        ID, maintain_order=True
    ).agg(pl.col("method").first(), pl.col("match_weight").max())
    return (
        pl.DataFrame({ID: np.arange(len(labels), dtype=np.uint32), "cluster": labels.astype(np.uint32)})
        .join(best, on=ID, how="left")
        .with_columns(pl.col("method").fill_null("singleton"))
        .sort(ID)
    )


def _cut_edges(labels: np.ndarray, edges: pl.DataFrame, codes: dict[str, np.ndarray]) -> pl.DataFrame:
    crossing = edges.filter(
        pl.Series(labels[edges["id_l"].to_numpy()]) != pl.Series(labels[edges["id_r"].to_numpy()])
    )
    if crossing.is_empty():
        return crossing.select("id_l", "id_r", "match_weight", "method").with_columns(
            pl.lit(None, pl.String).alias("reason")
        )
    left, right = crossing["id_l"].to_numpy(), crossing["id_r"].to_numpy()
    reasons = np.full(len(left), "chain", dtype=object)
    cluster_of_left, cluster_of_right = labels[left], labels[right]
    # Name the hard constraint the two final clusters would break together, if any.
    frame = pl.DataFrame({"cluster": labels, **codes})
    for name in codes:
        if name == "duplicate":
            continue
        if name == "group":
            held = frame.group_by("cluster", "group").agg(pl.col("duplicate").first())
            pairs = pl.DataFrame({"a": cluster_of_left, "b": cluster_of_right, "row": np.arange(len(left))})
            clash = (
                pairs.join(held, left_on="a", right_on="cluster")
                .join(held, left_on=["b", "group"], right_on=["cluster", "group"], suffix="_b")
                .filter(pl.col("duplicate") != pl.col("duplicate_b"))["row"]
                .unique()
                .to_numpy()
            )
        else:
            held = frame.filter(pl.col(name) != NO_VALUE).group_by("cluster").agg(pl.col(name).first())
            pairs = pl.DataFrame({"a": cluster_of_left, "b": cluster_of_right, "row": np.arange(len(left))})
            clash = (
                pairs.join(held, left_on="a", right_on="cluster")
                .join(held, left_on="b", right_on="cluster", suffix="_b")
                .filter(pl.col(name) != pl.col(f"{name}_b"))["row"]
                .to_numpy()
            )
        reasons[clash] = "one_per_group" if name == "group" else name
    return crossing.select("id_l", "id_r", "match_weight", "method").with_columns(
        pl.Series("reason", reasons.tolist(), dtype=pl.String)
    )
