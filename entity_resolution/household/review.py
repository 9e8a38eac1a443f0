"""Clerical review: the uncertain band out, reviewers' decisions back in.

Pairs whose match weight falls between ``thresholds.review`` and
``thresholds.link`` (``settings.yaml``) are listed in ``review_queue`` with
both records side by side (raw normalised values: masking is the warehouse's
job) and each comparison's level and weight.

Decisions live in ``<state>/linkage/review_decisions.csv`` (contract columns
``department_a, record_id_a, department_b, record_id_b, decision, decided_by,
decided_at``) and bind every later run: ``same`` forces a link (method
``review_decision``), ``different`` keeps the two records' persons apart.
The latest decision on a pair wins. A decision names records; it binds the
person the record is about (student, insured person, owner, head), never an
education record's guardian.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from entity_resolution.household.graph import connected_components

DECISIONS_SCHEMA: dict[str, pl.DataType] = {
    "department_a": pl.String,
    "record_id_a": pl.String,
    "department_b": pl.String,
    "record_id_b": pl.String,
    "decision": pl.String,
    "decided_by": pl.String,
    "decided_at": pl.String,
}

SIDE_COLUMNS = ["department", "record_id", "role", "snapshot_date", "name", "id_number", "id_status",
                "birth_date", "gender", "phone", "village_code", "address"]


def empty_decisions() -> pl.DataFrame:
    return pl.DataFrame(schema=DECISIONS_SCHEMA)


def load_decisions(path: str | Path) -> pl.DataFrame:
    path = Path(path)
    if not path.exists():
        return empty_decisions()
    frame = pl.read_csv(path, schema_overrides=DECISIONS_SCHEMA, infer_schema=False)
    return frame.select(list(DECISIONS_SCHEMA)).cast(DECISIONS_SCHEMA)


def latest_decisions(decisions: pl.DataFrame | None) -> pl.DataFrame:
    """One decision per unordered record pair (the latest), with record keys ``a``/``b`` (a < b)."""
    if decisions is None or decisions.height == 0:
        return pl.DataFrame(schema={"a": pl.String, "b": pl.String, "decision": pl.String})
    key_a = pl.concat_str(["department_a", "record_id_a"], separator="|")
    key_b = pl.concat_str(["department_b", "record_id_b"], separator="|")
    return (
        decisions.with_columns(
            a=pl.min_horizontal(key_a, key_b), b=pl.max_horizontal(key_a, key_b),
            decision=pl.col("decision").str.strip_chars().str.to_lowercase(),
        )
        .filter(pl.col("decision").is_in(["same", "different"]) & (pl.col("a") != pl.col("b")))
        .with_row_index("order")
        .sort("a", "b", "decided_at", "order", nulls_last=False)
        .unique(["a", "b"], keep="last")
        .select("a", "b", "decision")
    )


def _record_of_profile(profiles: pl.DataFrame) -> pl.Expr:
    return pl.concat_str(["department", "record_id"], separator="|")


def with_review_links(profiles: pl.DataFrame, decisions: pl.DataFrame | None) -> pl.DataFrame:
    """``profiles`` plus ``review_link``: records a reviewer called the same share a value."""
    same = latest_decisions(decisions).filter(pl.col("decision") == "same")
    components = connected_components(same.select("a", "b"))
    return (
        profiles.with_columns(_record=_record_of_profile(profiles))
        .join(components.rename({"node": "_record", "component": "review_link"}), on="_record", how="left")
        .with_columns(review_link=pl.when(pl.col("role") != "guardian").then(pl.col("review_link")))
        .drop("_record")
    )


def keep_apart(
    clusters: pl.DataFrame, edges: pl.DataFrame, profiles: pl.DataFrame, decisions: pl.DataFrame | None
) -> pl.DataFrame:
    """Split clusters holding two records a reviewer called different.

    ``clusters``: ``mention_id, cluster``; ``edges``: linked pairs ``mention_id_l,
    mention_id_r, match_weight, method``. A cluster that breaks a decision is
    rebuilt from its edges, deterministic then strongest first, leaving out any
    edge that would join the two records. Such clusters are few and small.
    """
    different = latest_decisions(decisions).filter(pl.col("decision") == "different")
    if different.height == 0:
        return clusters
    primary = profiles.filter(pl.col("role") != "guardian").select(
        "mention_id", record=_record_of_profile(profiles)
    ).join(clusters, on="mention_id")
    clashes = (
        different.join(primary.rename({"record": "a", "mention_id": "m_a"}), on="a")
        .join(primary.rename({"record": "b", "mention_id": "m_b"}), on=["b", "cluster"])
    )
    if clashes.height == 0:
        return clusters
    bad = clashes.get_column("cluster").unique()
    record_of = dict(primary.select("mention_id", "record").iter_rows())
    apart = {frozenset(p) for p in different.select("a", "b").iter_rows()}
    members = clusters.filter(pl.col("cluster").is_in(bad.to_list()))
    in_bad = edges.join(members.rename({"mention_id": "mention_id_l"}), on="mention_id_l").sort(
        [pl.col("method") == "probabilistic", "match_weight", "mention_id_l", "mention_id_r"],
        descending=[False, True, False, False],
    )
    parent: dict[str, str] = {m: m for m in members.get_column("mention_id").to_list()}
    records: dict[str, set[str]] = {m: ({record_of[m]} if m in record_of else set()) for m in parent}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for left, right in in_bad.select("mention_id_l", "mention_id_r").iter_rows():
        if left not in parent or right not in parent:
            continue
        a, b = find(left), find(right)
        if a == b or any(frozenset((x, y)) in apart for x in records[a] for y in records[b]):
            continue
        low, high = min(a, b), max(a, b)
        parent[high] = low
        records[low] |= records.pop(high)
    relabel = pl.DataFrame(
        {"mention_id": list(parent), "new_cluster": [f"review|{find(m)}" for m in parent]}
    )
    return (
        clusters.join(relabel, on="mention_id", how="left")
        .with_columns(cluster=pl.coalesce(pl.col("new_cluster"), pl.col("cluster").cast(pl.String)))
        .drop("new_cluster")
    )


def review_queue(
    pairs: pl.DataFrame, profiles: pl.DataFrame, clusters: pl.DataFrame, decisions: pl.DataFrame | None
) -> pl.DataFrame:
    """Pairs in the uncertain band whose records ended in different persons and have no decision yet."""
    band = pairs.filter(pl.col("decision") == "review")
    cluster_of = clusters.select("mention_id", "cluster")
    band = (
        band.join(cluster_of.rename({"mention_id": "mention_id_l", "cluster": "cluster_l"}), on="mention_id_l")
        .join(cluster_of.rename({"mention_id": "mention_id_r", "cluster": "cluster_r"}), on="mention_id_r")
        .filter(pl.col("cluster_l") != pl.col("cluster_r"))
    )
    side = profiles.select("mention_id", *SIDE_COLUMNS)
    side_by_side = (
        band.join(side.rename({c: f"{c}_l" for c in side.columns}), on="mention_id_l")
        .join(side.rename({c: f"{c}_r" for c in side.columns}), on="mention_id_r")
    )
    decided = latest_decisions(decisions).select("a", "b")
    key_l = pl.concat_str(["department_l", "record_id_l"], separator="|")
    key_r = pl.concat_str(["department_r", "record_id_r"], separator="|")
    side_by_side = side_by_side.with_columns(
        a=pl.min_horizontal(key_l, key_r), b=pl.max_horizontal(key_l, key_r)
    ).join(decided, on=["a", "b"], how="anti").filter(pl.col("a") != pl.col("b"))
    levels = [c for c in pairs.columns if c.startswith(("gamma_", "weight_"))]
    return (
        side_by_side.select(
            *[f"{c}_l" for c in SIDE_COLUMNS], *[f"{c}_r" for c in SIDE_COLUMNS],
            "match_weight", "match_probability", *levels,
        )
        .sort("match_weight", "department_l", "record_id_l", "department_r", "record_id_r",
              descending=[True, False, False, False, False])
        .unique(["department_l", "record_id_l", "department_r", "record_id_r"], keep="first", maintain_order=True)
    )
