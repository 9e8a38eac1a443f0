"""``link_households``: department frames in, the contract's linkage tables out.

Stages (timed): normalise (mentions, profiles) -> block, compare, score,
cluster (the generic engine over ``settings.yaml``; reviewers' decisions; stable
person IDs) -> households (per snapshot, stable household IDs) -> outputs.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from entity_resolution.household.best_evidence import best_evidence
from entity_resolution.household.graph import connected_components
from entity_resolution.household.households import (
    households_by_snapshot,
    named_adult_in_village,
    same_name_in_household,
)
from entity_resolution.household.linkage_frame import person_profiles
from entity_resolution.household.mentions import build_mentions
from entity_resolution.household.review import keep_apart, review_queue, with_review_links
from entity_resolution.household.settings import load_settings
from entity_resolution.household.stable_ids import LINEAGE_SCHEMA, assign_stable_ids
from entity_resolution.linker import Linker, LinkResult
from entity_resolution.partitioned import link_partitioned
from entity_resolution.settings import LinkageSettings
from entity_resolution.timing import StageClock

ASSIGNMENTS_FILE = Path("linkage") / "assignments.parquet"
DECISIONS_FILE = Path("linkage") / "review_decisions.csv"

ASSIGNMENTS_SCHEMA: dict[str, pl.DataType] = {
    "entity": pl.String,  # person: member is a mention_id; household: member is a person_id at snapshot_date
    "member": pl.String,
    "snapshot_date": pl.Date,
    "id": pl.String,
    "created": pl.Date,
    "is_head": pl.Boolean,
}

#: Lower is stronger; the method a record is reported with is its strongest link to another record.
METHOD_RANK = {"review_decision": 0, "id_exact": 1, "probabilistic": 2}


@dataclass
class LinkageState:
    """The previous run's identifier assignments (``<state>/linkage/assignments.parquet``)."""

    assignments: pl.DataFrame

    @property
    def persons(self) -> pl.DataFrame:
        return self.assignments.filter(pl.col("entity") == "person").select("member", "id", "created")

    @property
    def households(self) -> pl.DataFrame:
        return self.assignments.filter(pl.col("entity") == "household").select(
            "snapshot_date", person_id="member", household_id="id", created="created", is_head="is_head"
        )

    @classmethod
    def load(cls, state_dir: str | Path) -> LinkageState | None:
        path = Path(state_dir) / ASSIGNMENTS_FILE
        if not path.exists():
            return None
        # read in one open: a concurrent run may os.replace the file at any moment
        return cls(pl.read_parquet(io.BytesIO(path.read_bytes())).cast(ASSIGNMENTS_SCHEMA))

    def save(self, state_dir: str | Path) -> Path:
        path = Path(state_dir) / ASSIGNMENTS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        self.assignments.write_parquet(tmp)
        tmp.replace(path)
        return path


@dataclass
class HouseholdLinkResult:
    record_link: pl.DataFrame
    person: pl.DataFrame
    household: pl.DataFrame
    household_member: pl.DataFrame
    household_history: pl.DataFrame  # membership at every snapshot date
    id_lineage: pl.DataFrame
    review_queue: pl.DataFrame
    mentions: pl.DataFrame  # every person mention with person_id and household_id
    links: pl.DataFrame  # linked pairs with comparison levels and weights (the evidence)
    blocking_report: pl.DataFrame
    parameters: pl.DataFrame
    state: LinkageState
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per stage
    cpu_timings: dict[str, float] = field(default_factory=dict)  # CPU seconds (all threads) per stage
    engine_timings: dict[str, dict[str, float]] = field(default_factory=dict)  # the engine's own stages: wall, cpu


#: The engine's stages as the household pipeline reports them (training counts as scoring).
ENGINE_STAGES = {"prepare": "block", "block": "block", "compare": "compare", "train": "score", "score": "score",
                 "cluster": "cluster", "output": "cluster"}


def link_households(
    frames_by_department: dict[str, pl.DataFrame],
    previous_state: LinkageState | None = None,
    decisions: pl.DataFrame | None = None,
    settings: LinkageSettings | None = None,
    workers: int | None = None,
) -> HouseholdLinkResult:
    """Link every record (current and history) to a person and a household with stable IDs.

    ``workers``: link county by county in that many processes (the same result;
    ``entity_resolution.partitioned``); None links all counties in one pass.
    """
    settings = settings or load_settings()
    clock = StageClock()
    stage = clock.stage

    with stage("normalise"):
        mentions = build_mentions(frames_by_department)
        profiles, profile_of = person_profiles(mentions)
        profiles = with_review_links(profiles, decisions)

    linker = Linker(settings)
    if workers and settings.partition_column:
        linked = link_partitioned(linker, profiles, keep_pairs="review", workers=workers)
    else:
        linked = linker.link(profiles, keep_pairs="review")
    return finish_households(mentions, profiles, profile_of, linked, previous_state, decisions, clock)


def finish_households(
    mentions: pl.DataFrame,
    profiles: pl.DataFrame,
    profile_of: pl.DataFrame,
    linked: LinkResult,
    previous_state: LinkageState | None,
    decisions: pl.DataFrame | None,
    clock: StageClock | None = None,
) -> HouseholdLinkResult:
    """Persons from the engine's clusters, then households, stable IDs and the contract's tables."""
    clock = clock or StageClock()
    stage = clock.stage
    last_date = mentions.get_column("snapshot_date").max()
    for engine_stage, reported in ENGINE_STAGES.items():
        clock.add(reported, linked.timings.get(engine_stage, 0.0), linked.cpu_timings.get(engine_stage, 0.0))

    with stage("cluster"):
        links = linked.pairs.filter(pl.col("decision") == "link")
        clusters = linked.clusters.select("mention_id", cluster=pl.col("cluster_id").cast(pl.String))
        clusters = keep_apart(clusters, links, profiles, decisions)
        mention_cluster = profile_of.join(
            clusters.rename({"mention_id": "profile_id"}), on="profile_id"
        )
        mentions = mentions.join(
            mention_cluster.select("mention_id", "profile_id", person_cluster="cluster"), on="mention_id", how="left"
        )

    with stage("households"):
        # First pass on this run's person clusters, to find the ID-less records
        # household evidence resolves; then persons and households for real.
        draft = mentions.with_columns(person_id=pl.col("person_cluster"))
        draft_membership, _ = households_by_snapshot(draft, stable_ids=False)
        merges = pl.concat([
            same_name_in_household(draft, draft_membership), named_adult_in_village(draft, draft_membership)
        ])
        if merges.height:
            merged = connected_components(merges)
            mention_cluster = mention_cluster.join(
                merged.rename({"node": "cluster", "component": "merged"}), on="cluster", how="left"
            ).with_columns(cluster=pl.coalesce("merged", "cluster")).drop("merged")
        persons, person_lineage = assign_stable_ids(
            previous_state.persons if previous_state else None,
            mention_cluster.select(member="mention_id", cluster="cluster"),
            entity="person", prefix="P", snapshot_date=last_date,
        )
        mentions = mentions.join(
            persons.select(mention_id="member", person_id="id"), on="mention_id", how="left"
        )
        membership, household_lineage = households_by_snapshot(
            mentions, previous_state.households if previous_state else None
        )
        mentions = mentions.join(
            membership.select("snapshot_date", "person_id", "household_id", "evidence"),
            on=["snapshot_date", "person_id"], how="left",
        )

    with stage("outputs"):
        record_link = _record_link(mentions, links, clusters)
        person = best_evidence(mentions).join(
            membership.filter(pl.col("snapshot_date") == last_date).select("person_id", "household_id"),
            on="person_id", how="left",
        )
        household, household_member = _households(membership, person, last_date)
        queue = review_queue(linked.pairs, profiles, clusters, decisions)
        lineage = pl.concat([person_lineage, household_lineage]).cast(LINEAGE_SCHEMA)
        state = LinkageState(pl.concat([
            persons.select(pl.lit("person").alias("entity"), "member", pl.lit(None, dtype=pl.Date).alias("snapshot_date"),
                           "id", "created", "is_head"),
            membership.select(pl.lit("household").alias("entity"), member="person_id", snapshot_date="snapshot_date",
                              id="household_id", created="created", is_head="is_head"),
        ]).cast(ASSIGNMENTS_SCHEMA))
    return HouseholdLinkResult(
        record_link=record_link,
        person=person,
        household=household,
        household_member=household_member,
        household_history=membership,
        id_lineage=lineage,
        review_queue=queue,
        mentions=mentions,
        links=links,
        blocking_report=linked.blocking_report,
        parameters=linked.parameters,
        state=state,
        timings=clock.with_total(clock.wall),
        cpu_timings=clock.with_total(clock.cpu),
        engine_timings={"wall": linked.timings, "cpu": linked.cpu_timings},
    )


def _record_link(mentions: pl.DataFrame, links: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """One row per department record and snapshot: the person it is about, that person's household then."""
    record_of = mentions.select("profile_id", "record_key").unique("profile_id")
    cluster_of = clusters.select(profile_id="mention_id", cluster="cluster")
    edges = (
        links.select(a="mention_id_l", b="mention_id_r", method="method", weight="match_weight")
        .join(record_of.rename({"profile_id": "a", "record_key": "rec_a"}), on="a")
        .join(record_of.rename({"profile_id": "b", "record_key": "rec_b"}), on="b")
        .join(cluster_of.rename({"profile_id": "a", "cluster": "c_a"}), on="a")
        .join(cluster_of.rename({"profile_id": "b", "cluster": "c_b"}), on="b")
        .filter((pl.col("rec_a") != pl.col("rec_b")) & (pl.col("c_a") == pl.col("c_b")))
    )
    ends = pl.concat([
        edges.select(record_key="rec_a", method="method", weight="weight"),
        edges.select(record_key="rec_b", method="method", weight="weight"),
    ]).with_columns(rank=pl.col("method").replace_strict(METHOD_RANK, default=3, return_dtype=pl.Int8))
    best = (
        ends.sort(["record_key", "rank", "weight"], descending=[False, False, True])
        .unique("record_key", keep="first")
        .select("record_key", linked_method="method", match_weight="weight")
    )
    primary = mentions.filter(pl.col("role") != "guardian")
    latest = primary.group_by("department", "county").agg(latest=pl.col("snapshot_date").max())
    return (
        primary.join(best, on="record_key", how="left")
        .join(latest, on=["department", "county"], how="left", nulls_equal=True)
        .select(
            "department", "record_id", "snapshot_date", "file_id", "person_id", "household_id",
            pl.col("match_weight").cast(pl.Float64),
            method=pl.coalesce(
                "linked_method",
                pl.when(pl.col("evidence").is_not_null()).then(pl.lit("household_evidence")),
                pl.lit("singleton"),
            ),
            is_current=pl.col("snapshot_date") == pl.col("latest"),
        )
        .sort("department", "record_id", "snapshot_date")
    )


def _households(membership: pl.DataFrame, person: pl.DataFrame, date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every household ever seen (rule hits and facts of past snapshots refer to
    ended households too), described as at its last snapshot; members are current."""
    last_seen = membership.group_by("household_id").agg(last_seen=pl.col("snapshot_date").max())
    latest = membership.join(last_seen, on="household_id").filter(pl.col("snapshot_date") == pl.col("last_seen"))
    village = person.select("person_id", "village_code")
    members = latest.join(village, on="person_id", how="left")
    common_village = (
        members.filter(pl.col("village_code").is_not_null())
        .group_by("household_id", "village_code").agg(n=pl.len())
        .sort(["household_id", "n", "village_code"], descending=[False, True, False])
        .unique("household_id", keep="first").select("household_id", common_village="village_code")
    )
    household = (
        members.group_by("household_id").agg(
            head_person_id=pl.col("person_id").filter("is_head").first(),
            head_village=pl.col("village_code").filter("is_head").first(),
            n_members=pl.len().cast(pl.UInt32),
            snapshot_date=pl.col("last_seen").first(),
        )
        .join(common_village, on="household_id", how="left")
        .select("household_id", "head_person_id", village_code=pl.coalesce("head_village", "common_village"),
                n_members="n_members", snapshot_date="snapshot_date",
                is_current=pl.col("snapshot_date") == pl.lit(date, dtype=pl.Date))
        .sort("household_id")
    )
    household_member = membership.filter(pl.col("snapshot_date") == date).select(
        "household_id", "person_id", "relation", "is_head", "evidence").sort("household_id", "person_id")
    return household, household_member
