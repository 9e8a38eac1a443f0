"""Clustering: components, hard constraints, chain guard."""

import numpy as np
import polars as pl

from entity_resolution.clustering import cluster, connected_components
from entity_resolution.records import prepare_records
from entity_resolution.settings import LinkageSettings


def settings(**extra) -> LinkageSettings:
    return LinkageSettings.model_validate(
        {
            "unique_id_column": "id",
            "blocking_rules": [{"name": "all", "keys": ["name"]}],
            "comparisons": [{"name": "name", "column": "name", "levels": [{"type": "exact"}, {"type": "else"}]}],
            "thresholds": {"link": 8, "review": 4},
            **extra,
        }
    )


def edges(rows: list[tuple]) -> pl.DataFrame:
    """(id_l, id_r, weight[, method]) -> scored pairs as clustering sees them."""
    return pl.DataFrame(
        {
            "id_l": [r[0] for r in rows],
            "id_r": [r[1] for r in rows],
            "match_weight": [float(r[2]) for r in rows],
            "method": [r[3] if len(r) > 3 else "probabilistic" for r in rows],
            "decision": ["link" if r[2] >= 8 or len(r) > 3 else "no_link" for r in rows],
        },
        schema_overrides={"id_l": pl.UInt32, "id_r": pl.UInt32},
    )


def clusters_of(result) -> list[list[int]]:
    frame = result.assignments.group_by("cluster").agg(pl.col("__id").sort()).sort("cluster")
    return frame["__id"].to_list()


def test_connected_components_match_a_plain_search():
    rng = np.random.default_rng(0)
    n = 2000
    left, right = rng.integers(0, n, 1500), rng.integers(0, n, 1500)
    labels = connected_components(n, left, right)
    adjacency = {i: set() for i in range(n)}
    for a, b in zip(left, right):
        adjacency[int(a)].add(int(b))
        adjacency[int(b)].add(int(a))
    seen = {}
    for start in range(n):
        if start in seen:
            continue
        stack, members = [start], {start}
        while stack:
            for other in adjacency[stack.pop()]:
                if other not in members:
                    members.add(other)
                    stack.append(other)
        for member in members:
            seen[member] = min(members)
    assert labels.tolist() == [seen[i] for i in range(n)]


def test_two_valid_ids_never_merge():
    frame = pl.DataFrame(
        {
            "id": [0, 1, 2, 3],
            "name": ["王伟"] * 4,
            "id_number": ["A", None, "B", "C"],
            "id_status": ["valid", None, "valid", "bad_check_digit"],
        }
    )
    s = settings(cannot_link=[{"column": "id_number", "valid_column": "id_status", "valid_values": ["valid"]}])
    records = prepare_records(frame, s)
    result = cluster(records, edges([(0, 1, 20), (1, 2, 10), (2, 3, 12)]), s)
    # 1 sides with 0 (stronger edge); 2 and 3 stay (3's ID is not valid, so no conflict).
    assert clusters_of(result) == [[0, 1], [2, 3]]
    assert result.cut_edges.select("id_l", "id_r", "reason").rows() == [(1, 2, "cannot_link:id_number")]


def test_chain_through_one_weak_edge_is_split_and_a_strong_bridge_is_kept():
    frame = pl.DataFrame({"id": list(range(6)), "name": ["x"] * 6})
    triangles = [(0, 1, 20), (1, 2, 20), (0, 2, 20), (3, 4, 20), (4, 5, 20), (3, 5, 20)]
    s = settings()
    records = prepare_records(frame, s)
    weak = cluster(records, edges([*triangles, (2, 3, 9)]), s)
    assert clusters_of(weak) == [[0, 1, 2], [3, 4, 5]]
    assert weak.cut_edges["reason"].to_list() == ["chain"]
    strong = cluster(records, edges([*triangles, (2, 3, 15)]), s)
    assert clusters_of(strong) == [[0, 1, 2, 3, 4, 5]]
    # A single record hanging on a weak edge is an ordinary link, not a chain.
    leaf = cluster(records, edges([*triangles[:3], (2, 3, 9)]), s)
    assert clusters_of(leaf)[0] == [0, 1, 2, 3]


def test_low_density_cluster_is_split_at_weakest_edges():
    frame = pl.DataFrame({"id": list(range(6)), "name": ["x"] * 6})
    path = [(0, 1, 30), (1, 2, 30), (2, 3, 9.5), (3, 4, 30), (4, 5, 30)]
    s = settings(clustering={"chain_guard": False, "min_density": 0.5})
    result = cluster(prepare_records(frame, s), edges(path), s)
    assert clusters_of(result) == [[0, 1, 2], [3, 4, 5]]


def test_one_record_per_group_unless_exact_duplicates():
    frame = pl.DataFrame(
        {
            "id": [0, 1, 2, 3],
            "name": ["王伟", "王玮", "王伟", "王伟"],
            "source": ["health", "health", "water", "health"],
        }
    )
    s = settings(one_per_group=["source"], duplicate_columns=["name"])
    records = prepare_records(frame, s)
    # 0 and 1 are both health records with different names: 2 goes with the stronger, 0.
    result = cluster(records, edges([(0, 2, 15), (1, 2, 10)]), s)
    assert clusters_of(result) == [[0, 2], [1], [3]]
    assert result.cut_edges["reason"].to_list() == ["one_per_group"]
    # 0 and 3 are exact duplicates within health: allowed together.
    duplicates = cluster(records, edges([(0, 2, 15), (2, 3, 10)]), s)
    assert clusters_of(duplicates) == [[0, 2, 3], [1]]


def test_deterministic_edges_win_and_are_reported_as_method():
    frame = pl.DataFrame(
        {
            "id": [0, 1, 2],
            "name": ["a", "b", "c"],
            "source": ["s1", "s2", "s2"],
        }
    )
    s = settings(one_per_group=["source"], duplicate_columns=["name"])
    result = cluster(prepare_records(frame, s), edges([(0, 1, 5, "id_exact"), (0, 2, 30)]), s)
    assert clusters_of(result) == [[0, 1], [2]]
    methods = result.assignments.sort("__id")["method"].to_list()
    assert methods == ["id_exact", "id_exact", "singleton"]
