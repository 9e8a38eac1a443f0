"""Household formation from every piece of household evidence, per snapshot.

Input: the mention frame (``mentions.build_mentions``) with a ``person_id``
column (persons already linked). Evidence, strongest first:

0. civil-affairs ``case_no``: the assisted household's roster, kept up to date
   because benefits are paid on it. It *anchors* a household.
1. education guardian and student (the guardian's person and the student's).
2. health ``family_no``: members enrolled together. Not updated promptly when
   a household splits, so it never overrides civil affairs: a person already
   anchored by a case keeps it, and a ``family_no`` group that spans two cases
   lends each un-anchored member the case most of the group holds, except a
   case the newest roster took that member off and that member shares no
   phone, child or home with (``left_their_case``, ``_still_apart``: the son who
   moved his family out of his widowed mother's household is still on her
   health family, but no longer on her case). Outside
   the cases, each health family is a household; a child whose guardians are
   all in another family lives with them (the child alone moves, the two
   families stay two households).
3. a shared phone in the same village, for persons with no other evidence:
   it never pulls a person enrolled in a health family nor joins two
   families. Placeholder phones and phones shared by many persons say nothing.

Household-level records (housing owner, water head) carry no membership of
their own: they attach to the household of the person they name (so a house
listed under the son lands in the household his widowed mother heads in civil
affairs). A record naming, without an ID number, a name that in its village
only one household's members bear (father and son of one name) joins that
household even though person linkage could not tell which of them it names.

Households are per snapshot date: at each date ``D`` the evidence is, for each
(department, county), the mentions of the latest snapshot on or before ``D``;
a person's household may change from one date to the next, and stable IDs
follow it (``stable_ids``). Formation runs on integer codes (``encode``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from entity_resolution.clustering import connected_components as components_of_numbered
from entity_resolution.household.mentions import MENTION_COLUMNS, VALID_ID_STATUSES
from entity_resolution.household.stable_ids import LINEAGE_SCHEMA, assign_stable_ids

#: A phone shared by more persons than this is a village cadre's or a placeholder.
MAX_PERSONS_PER_PHONE = 8
MAX_ROUNDS = 20

#: Roles that name a household's adult (its head, the house owner, a child's guardian), not a person record.
NAMING_ROLES = ("head", "owner", "guardian")
#: Nobody younger heads a household, owns a house or signs as a guardian.
ADULT_AGE = 18

PRIORITY_CASE, PRIORITY_GUARDIAN, PRIORITY_FAMILY, PRIORITY_CONTACT = 0, 1, 2, 3
EVIDENCE_NAMES = {
    PRIORITY_CASE: "case_no",
    PRIORITY_GUARDIAN: "guardian",
    PRIORITY_FAMILY: "family_no",
    PRIORITY_CONTACT: "phone_address",
}

MEMBERSHIP_SCHEMA: dict[str, pl.DataType] = {
    "snapshot_date": pl.Date,
    "person_id": pl.String,
    "household_id": pl.String,
    "is_head": pl.Boolean,
    "relation": pl.String,
    "evidence": pl.String,
}


def placeholder_phone() -> pl.Expr:
    """Phones that name nobody: the last eight digits use at most two distinct digits (13800000000, 13888888888)."""
    tail = pl.col("phone").str.slice(3, 8)
    return tail.str.split("").list.unique().list.len() <= 2


def mentions_as_of(mentions: pl.DataFrame, date: dt.date) -> pl.DataFrame:
    """The mentions of the latest snapshot on or before ``date`` of each (department, county)."""
    upto = mentions.filter(pl.col("snapshot_date") <= date)
    latest = upto.group_by("department", "county").agg(latest=pl.col("snapshot_date").max())
    return upto.join(latest, on=["department", "county"], how="left", nulls_equal=True).filter(
        pl.col("snapshot_date") == pl.col("latest")
    ).drop("latest")


def left_their_case(coded: pl.DataFrame, date: dt.date) -> pl.DataFrame:
    """``person_id, anchor``: persons an earlier civil-affairs roster had on a case that the roster in
    force at ``date`` still holds, without them (a coded frame). A case that ended altogether is not
    a split: its members are not listed."""
    cases = coded.filter(pl.col("case_group").is_not_null() & (pl.col("snapshot_date") <= date)).select(
        "county", "snapshot_date", "person_id", "case_group"
    )
    latest = pl.col("snapshot_date") == pl.col("snapshot_date").max().over("county")
    now = cases.filter(latest)
    return (
        cases.filter(~latest)
        .join(now.select("case_group").unique(), on="case_group", how="semi")
        .join(now.select("person_id", "case_group"), on=["person_id", "case_group"], how="anti")
        .select("person_id", anchor=pl.col("case_group").cast(pl.Int64) + ANCHOR_CASE)
        .unique()
    )


def guardianships(coded: pl.DataFrame) -> pl.DataFrame:
    """``person_id, student_person``: each guardian named on a student's record, and the student (a coded frame)."""
    return coded.filter(pl.col("student_person").is_not_null()).select("person_id", "student_person")


#: Columns household formation reads.
HOUSEHOLD_COLUMNS = (
    "mention_id", "person_id", "snapshot_date", "department", "county", "role", "case_no", "family_no", "relation",
    "guardian_relation", "student_mention_id", "phone", "village_code", "id_status", "name_pinyin", "birth_date",
    "gender", "address",
)
GROUP_COLUMNS = ("case_group", "guardian_group", "family_group", "phone_group")

#: Anchors (households in the making) are integers ordered as their labels would be: a case (by its key),
#: then a component (by its smallest group key), then a person alone (by person ID).
_KIND = 1 << 32
ANCHOR_CASE, ANCHOR_COMPONENT, ANCHOR_SOLO = 0, _KIND, 2 * _KIND


def encode(mentions: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(coded, persons)``: a mention frame with ``person_id`` made ready for formation on integers.

    Formation joins and groups the same keys many times per snapshot; on
    integers that costs a fraction of what text costs and allocates far less.
    ``coded`` holds the columns formation reads with ``person_id`` a dense
    code in the order of the IDs, each evidence group (``GROUP_COLUMNS``) a
    dense code in the order of its key (``<kind>|<county or village>|<number>``;
    a placeholder phone has none), and ``student_person``: on a guardian's
    mention, the code of the student the record is about. ``persons``:
    ``code, person_id``.
    """
    m = mentions.select(c for c in HOUSEHOLD_COLUMNS if c in mentions.columns)
    missing = [c for c in HOUSEHOLD_COLUMNS if c not in m.columns]
    m = m.with_columns(pl.lit(None, dtype=MENTION_COLUMNS.get(c, pl.String)).alias(c) for c in missing)
    county = pl.col("county").fill_null("")
    keys = m.select(
        case_group=pl.concat_str([pl.lit("case"), county, "case_no"], separator="|"),
        guardian_group=pl.concat_str([pl.lit("guardian"), "student_mention_id"], separator="|"),
        family_group=pl.concat_str([pl.lit("family"), county, "family_no"], separator="|"),
        phone_group=pl.when(~placeholder_phone()).then(
            pl.concat_str([pl.lit("phone"), pl.coalesce("village_code", "county").fill_null(""), "phone"], separator="|")
        ),
    )
    # one numbering of every kind of key, so that codes keep the order of the keys across kinds too
    group_keys = pl.concat([keys.get_column(c).drop_nulls().unique() for c in GROUP_COLUMNS]).unique().sort()
    person_ids = m.get_column("person_id").unique().sort()
    person_code = m.get_column("person_id").replace_strict(person_ids, _numbers(person_ids), return_dtype=pl.UInt32)
    students = m.select("mention_id", code=person_code).filter(
        pl.col("mention_id").is_in(m.get_column("student_mention_id").drop_nulls().implode())
    )
    # where the record says the person lives, village and group (组), for telling a split (``_still_apart``);
    # the group read once per distinct address: there are about 40 times fewer than mentions
    addresses = m.select("address").unique().drop_nulls().with_columns(group=address_group()).drop_nulls("group")
    group = pl.col("address").replace_strict(addresses.get_column("address"), addresses.get_column("group"),
                                             default=None, return_dtype=pl.String)
    coded = m.with_columns(
        person_code.alias("person_code"),
        home=pl.when(pl.col("village_code").is_not_null() & group.is_not_null()).then(
            pl.concat_str([pl.col("village_code"), group], separator="|").hash()
        ),
        *(keys.get_column(c).replace_strict(group_keys, _numbers(group_keys), default=None, return_dtype=pl.UInt32)
          for c in GROUP_COLUMNS),
        student_person=pl.col("student_mention_id").replace_strict(
            students.get_column("mention_id"), students.get_column("code"), default=None, return_dtype=pl.UInt32
        ),
    )
    persons = coded.select(code="person_code", person_id="person_id").unique("code")
    coded = coded.drop("person_id", "mention_id", "student_mention_id", "case_no", "family_no", "phone", "address").rename(
        {"person_code": "person_id"}
    )
    return coded, persons


def _numbers(values: pl.Series) -> pl.Series:
    return pl.int_range(values.len(), dtype=pl.UInt32, eager=True)


def evidence_groups(coded: pl.DataFrame) -> pl.DataFrame:
    """``person_id, group, priority``: one row per person per piece of household evidence (a coded frame)."""
    pair = coded.filter(pl.col("student_person").is_not_null())
    groups = pl.concat([
        coded.filter(pl.col("case_group").is_not_null()).select(
            "person_id", group="case_group", priority=pl.lit(PRIORITY_CASE)
        ),
        pair.select("person_id", group="guardian_group", priority=pl.lit(PRIORITY_GUARDIAN)),
        pair.select(person_id="student_person", group="guardian_group", priority=pl.lit(PRIORITY_GUARDIAN)),
        coded.filter(pl.col("family_group").is_not_null()).select(
            "person_id", group="family_group", priority=pl.lit(PRIORITY_FAMILY)
        ),
        coded.filter(pl.col("phone_group").is_not_null()).select(
            "person_id", group="phone_group", priority=pl.lit(PRIORITY_CONTACT)
        ),
    ], how="vertical").unique()
    phone_too_big = (
        groups.filter(pl.col("priority") == PRIORITY_CONTACT)
        .group_by("group").agg(n=pl.col("person_id").n_unique())
        .filter(pl.col("n") > MAX_PERSONS_PER_PHONE).select("group")
    )
    return groups.join(phone_too_big, on="group", how="anti")


def _encode_previous(previous: pl.DataFrame | None, persons: pl.DataFrame) -> pl.DataFrame | None:
    """``person_id, household_id`` of the date before, on person codes (persons not seen now drop out)."""
    if previous is None or previous.height == 0:
        return None
    return previous.select("person_id", "household_id").join(persons, on="person_id").select(
        person_id="code", household_id="household_id"
    )


def _decode(clusters: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """Person codes back to person IDs; the anchor, a throw-away label, as text."""
    return clusters.join(persons, left_on="person_id", right_on="code").select(
        person_id="person_id_right", cluster=pl.col("cluster").cast(pl.String), is_head="is_head",
        relation="relation", evidence="evidence",
    )


def form_households(
    mentions: pl.DataFrame, previous: pl.DataFrame | None = None, heads: bool = True
) -> pl.DataFrame:
    """Households of one snapshot: ``person_id, cluster, is_head, relation, evidence``.

    ``cluster`` is a throw-away label; ``stable_ids`` turns it into a household ID.
    ``previous``: ``person_id, household_id`` at the date before, so that a
    member whose own evidence is missing from this snapshot stays put
    (``_keep_members_without_evidence``). ``heads=False`` (a draft that only
    needs who lives with whom) skips choosing heads: ``is_head`` and
    ``relation`` are null.
    """
    coded, persons = encode(mentions)
    return _decode(_form(coded, _encode_previous(previous, persons), heads), persons)


def _form(coded: pl.DataFrame, previous: pl.DataFrame | None, heads: bool,
          refused: pl.DataFrame | None = None) -> pl.DataFrame:
    """``form_households`` on a coded frame (``encode``) with ``previous`` on person codes; clusters are anchors.

    ``refused``: ``person_id, anchor`` pairs from ``left_their_case``: no weaker evidence lends that
    anchor to that person unless they still share a phone, a pupil or a home with it (``_still_apart``).
    """
    persons = coded.select("person_id").unique()
    groups = evidence_groups(coded)

    # 0. anchors from civil affairs; a person in two cases of one snapshot (a
    #    data error) takes the case where they are the head, else the smaller one.
    case_rows = coded.filter(pl.col("case_group").is_not_null()).select(
        "person_id", anchor=pl.col("case_group").cast(pl.Int64) + ANCHOR_CASE, is_head_row=pl.col("relation") == "户主"
    )
    anchors = (
        case_rows.sort(["person_id", "is_head_row", "anchor"], descending=[False, True, False], nulls_last=True)
        .unique("person_id", keep="first")
        .select("person_id", "anchor", evidence=pl.lit(EVIDENCE_NAMES[PRIORITY_CASE]))
    )

    # 1-3. un-anchored persons take the anchor their strongest evidence group
    #      holds most often, round after round (a guardian's child's family_no ...).
    #      A shared phone never pulls a person enrolled in a health family: the
    #      family says where they live, and a phone (given on a record that
    #      person linkage may have put on the wrong namesake) would fuse two
    #      enrolled households. It does place everyone else.
    weak = groups.filter(pl.col("priority") > PRIORITY_CASE)
    if refused is not None and refused.height:
        refused = _still_apart(refused, weak, anchors, coded)
    enrolled = weak.filter(pl.col("priority") == PRIORITY_FAMILY).select("person_id").unique()
    adopting = weak.filter(
        (pl.col("priority") < PRIORITY_CONTACT) | ~pl.col("person_id").is_in(enrolled.get_column("person_id").implode())
    )
    anchors = _adopt_anchors(anchors, adopting, weak, refused)

    # Persons still un-anchored share only weak groups with each other. The
    # households of health families (with the guardians and children their
    # members link to) come first; then the others join the one their phone or
    # guardian group holds most; what is left are components of all their groups.
    loose = adopting.join(anchors.select("person_id"), on="person_id", how="anti")
    families = _components(loose.filter(pl.col("priority") == PRIORITY_FAMILY))
    families = _children_follow_guardians(families, guardianships(coded))
    anchors = _adopt_anchors(pl.concat([anchors, families]), loose, weak, refused)
    components = _components(loose.join(anchors.select("person_id"), on="person_id", how="anti"))
    membership = pl.concat([anchors, components])
    solo = persons.join(membership, on="person_id", how="anti").select(
        "person_id", anchor=pl.col("person_id").cast(pl.Int64) + ANCHOR_SOLO, evidence=pl.lit(None, dtype=pl.String)
    )
    membership = pl.concat([membership, solo]).join(persons, on="person_id", how="semi")
    membership = _attach_records_naming_a_member(coded, membership)
    if previous is not None and previous.height:
        membership = _keep_members_without_evidence(membership, previous)
    if not heads:
        return membership.rename({"anchor": "cluster"}).with_columns(
            is_head=pl.lit(None, dtype=pl.Boolean), relation=pl.lit(None, dtype=pl.String)
        )
    return membership.rename({"anchor": "cluster"}).join(_heads(coded, membership), on="person_id", how="left")


def _still_apart(left: pl.DataFrame, weak: pl.DataFrame, case_anchors: pl.DataFrame,
                 coded: pl.DataFrame) -> pl.DataFrame:
    """Of the persons taken off a case (``left_their_case``), those who share no phone, no pupil and
    no home (village and group) with anyone the case still holds. A roster also drops a member who
    stays at home (found work, no longer covered); one who moved out lives elsewhere, or at least
    shares no phone and signs for no child there."""
    members = case_anchors.select("person_id", "anchor")

    def tied_by(ties: pl.DataFrame, key: str) -> pl.DataFrame:
        held = ties.join(members, on="person_id").select(key, "anchor").unique()
        return left.join(ties, on="person_id").join(held, on=[key, "anchor"], how="semi").select("person_id", "anchor")

    contacts = weak.filter(pl.col("priority").is_in([PRIORITY_GUARDIAN, PRIORITY_CONTACT])).select("person_id", "group")
    homes = coded.filter(pl.col("home").is_not_null()).select("person_id", "home").unique()
    still_tied = pl.concat([tied_by(contacts, "group"), tied_by(homes, "home")])
    return left.join(still_tied, on=["person_id", "anchor"], how="anti")


def _adopt_anchors(anchors: pl.DataFrame, pending: pl.DataFrame, holders: pl.DataFrame,
                   refused: pl.DataFrame | None = None) -> pl.DataFrame:
    """``anchors`` plus, round after round, each ``pending`` person's anchor: the one its strongest group holds most.

    ``pending`` and ``holders`` are evidence rows (``person_id, group,
    priority``): a pending person adopts through its own rows, and the anchors
    a group holds are counted over ``holders``. Counts per (group, anchor) grow
    by the persons a round anchors and only still un-anchored rows are
    searched: each round costs what it adds, not a join of every group row
    with every anchor.
    """
    group_keys = ["group", "priority", "anchor"]
    pending = pending.join(anchors.select("person_id"), on="person_id", how="anti")
    # Only the groups a pending person is in can lend an anchor: count anchors in those alone.
    holders = holders.join(pending.select("group").unique(), on="group", how="semi")
    group_anchor = (
        holders.join(anchors.select("person_id", "anchor"), on="person_id").group_by(group_keys)
        .agg(n=pl.len().cast(pl.Int64))
    )
    for _ in range(MAX_ROUNDS):
        # per person: the strongest group holding an anchor, its most common anchor, ties the smaller label
        offered = pending.join(group_anchor, on=["group", "priority"])
        if refused is not None and refused.height:
            offered = offered.join(refused, on=["person_id", "anchor"], how="anti")
        candidates = (
            offered
            .group_by("person_id", *group_keys).agg(pl.col("n").sum())
            .filter(pl.col("priority") == pl.col("priority").min().over("person_id"))
            .filter(pl.col("n") == pl.col("n").max().over("person_id"))
            .group_by("person_id").agg(pl.col("priority").first(), pl.col("anchor").min())
        )
        if candidates.height == 0:
            break
        new = candidates.select(
            "person_id", "anchor",
            evidence=pl.col("priority").replace_strict(EVIDENCE_NAMES, return_dtype=pl.String),
        )
        anchors = pl.concat([anchors, new])
        pending = pending.join(new.select("person_id"), on="person_id", how="anti")
        # the counts of what this round anchored; rows of one (group, anchor) are summed where they are read
        added = (
            holders.join(new.select("person_id", "anchor"), on="person_id")
            .group_by(group_keys).agg(n=pl.len().cast(pl.Int64))
        )
        group_anchor = pl.concat([group_anchor, added])
    return anchors


def _children_follow_guardians(families: pl.DataFrame, guardianships: pl.DataFrame) -> pl.DataFrame:
    """A student enrolled in one health family whose guardians are all in another lives with the guardians.

    ``family_no`` is not updated promptly when a household splits (a mother
    moving out with her child leaves the child on the grandparents' family),
    while the school records who answers for the child now. Only the child
    moves: the two families stay two households.
    """
    home = families.select("person_id", "anchor")
    guardian_home = (
        guardianships.join(home, on="person_id")
        .group_by("student_person").agg(homes=pl.col("anchor").unique())
        .filter(pl.col("homes").list.len() == 1)
        .select(person_id="student_person", guardian_home=pl.col("homes").list.first())
    )
    return (
        families.join(guardian_home, on="person_id", how="left")
        .with_columns(
            evidence=pl.when(pl.col("guardian_home").is_not_null() & (pl.col("guardian_home") != pl.col("anchor")))
            .then(pl.lit(EVIDENCE_NAMES[PRIORITY_GUARDIAN])).otherwise("evidence"),
            anchor=pl.coalesce("guardian_home", "anchor"),
        )
        .drop("guardian_home")
    )


def _components(rows: pl.DataFrame) -> pl.DataFrame:
    """``person_id, anchor, evidence``: persons joined by the groups of ``rows``, evidence their strongest group.

    Groups are numbered before persons, so a component's smallest node (the
    union-find's label) is its smallest group: the component's anchor.
    """
    if rows.height == 0:
        return pl.DataFrame(schema={"person_id": pl.UInt32, "anchor": pl.Int64, "evidence": pl.String})
    groups, group_node = np.unique(rows.get_column("group").to_numpy(), return_inverse=True)
    persons, person_node = np.unique(rows.get_column("person_id").to_numpy(), return_inverse=True)
    labels = components_of_numbered(len(groups) + len(persons), group_node, len(groups) + person_node)
    anchors = pl.DataFrame({
        "person_id": pl.Series(persons, dtype=pl.UInt32),
        "anchor": pl.Series(groups[labels[len(groups):]].astype(np.int64) + ANCHOR_COMPONENT, dtype=pl.Int64),
    })
    strongest = rows.group_by("person_id").agg(p=pl.col("priority").min())
    return anchors.join(strongest, on="person_id").select(
        "person_id", "anchor", evidence=pl.col("p").replace_strict(EVIDENCE_NAMES, return_dtype=pl.String)
    )


#: A record naming a member of a household, by a name only that household's members bear in the village.
NAMED_MEMBER = "named_member"


def _attach_records_naming_a_member(mentions: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    """A household-level record left alone joins the one household whose members bear the name it gives.

    A water survey or a house register names the head with no ID number, and
    in a village where father and son share a name (覃伟 senior and junior)
    person linkage cannot tell which of them it names, so it stays a person
    of its own with no household. The household is not in doubt, though: when
    every person of that name in the village who holds a record of their own
    lives in one household, the record belongs to that household (it attaches
    to the household of the person it names, whichever of them that is).
    Only a person alone, known from such namings only and with no valid ID,
    is moved; a candidate already holding a record of the same department and
    role at this snapshot is another household's, so it does not count.
    """
    alone = membership.filter(
        (pl.len().over("anchor") == 1) & ~pl.col("evidence").is_in(OWN_EVIDENCE).fill_null(False)
    ).select("person_id")
    # Summaries only for the persons that can matter (alone ones, then their namesakes), not for every person.
    summary = {
        "naming_only": pl.col("role").is_in(NAMING_ROLES).all(),
        "has_valid": pl.col("id_status").is_in(VALID_ID_STATUSES).any(),
        "birth": pl.col("birth_date").drop_nulls().min(),
        "gender": pl.col("gender").drop_nulls().mode().sort().first(),
    }
    of_alone = mentions.join(alone, on="person_id", how="semi")
    orphans = (
        of_alone.group_by("person_id").agg(**summary)
        .filter(pl.col("naming_only") & ~pl.col("has_valid"))
    )
    if orphans.height == 0:
        return membership
    place_name = ["village_code", "name_pinyin"]
    wanted = (
        of_alone.join(orphans, on="person_id", how="semi").select("person_id", *place_name).drop_nulls().unique()
        .join(orphans.select("person_id", "birth", "gender"), on="person_id")
    )
    namesakes = (
        mentions.join(wanted.select(place_name).unique(), on=place_name, how="semi")
        .join(orphans, on="person_id", how="anti")
    )
    of_namesakes = mentions.join(namesakes.select("person_id").unique(), on="person_id", how="semi")
    candidates = (
        namesakes.select("person_id", *place_name).unique()
        .join(membership.select("person_id", "anchor"), on="person_id")
        .join(
            of_namesakes.group_by("person_id").agg(cand_birth=summary["birth"], cand_gender=summary["gender"]),
            on="person_id",
        )
        .rename({"person_id": "candidate"})
    )
    slots = (
        pl.concat([of_alone, of_namesakes]).filter(pl.col("role") != "guardian")
        .select("person_id", "department", "role").unique()
    )
    # a birth date or gender the record gives (a damaged ID number still tells them) that the namesake's differ from
    matches = (
        wanted.join(candidates, on=place_name)
        .filter(pl.col("birth").is_null() | pl.col("cand_birth").is_null() | (pl.col("birth") == pl.col("cand_birth")))
        .filter(pl.col("gender").is_null() | pl.col("cand_gender").is_null()
                | (pl.col("gender") == pl.col("cand_gender")))
        .select("person_id", "candidate", "anchor").unique()
    )
    clash = (
        matches.join(slots, on="person_id")
        .join(slots.rename({"person_id": "candidate"}), on=["candidate", "department", "role"])
        .select("person_id", "candidate")
    )
    homes = (
        matches.join(clash, on=["person_id", "candidate"], how="anti")
        .group_by("person_id").agg(n=pl.col("anchor").n_unique(), home=pl.col("anchor").first())
        .filter(pl.col("n") == 1)
        .select("person_id", "home")
    )
    return (
        membership.join(homes, on="person_id", how="left")
        .with_columns(
            anchor=pl.coalesce("home", "anchor"),
            evidence=pl.when(pl.col("home").is_not_null()).then(pl.lit(NAMED_MEMBER)).otherwise("evidence"),
        )
        .drop("home")
    )


#: Evidence a person brings of their own; a shared phone or nothing is no evidence of a move.
OWN_EVIDENCE = (EVIDENCE_NAMES[PRIORITY_CASE], EVIDENCE_NAMES[PRIORITY_GUARDIAN], EVIDENCE_NAMES[PRIORITY_FAMILY])


def _keep_members_without_evidence(membership: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """A member with no membership evidence of their own in this snapshot stays with their household.

    A person can drop out of one department's extract (health missed them
    this month) while still living where they did, and what is left (a water
    or housing record, a shared phone) says nothing about a move. Such a
    person goes back to the group now holding most of their previous
    household's members that do have evidence of their own, if any. A real
    move or split shows as evidence (a new case, a new family_no), and a
    person with such evidence is never moved.
    """
    evidenced = pl.col("evidence").is_in(OWN_EVIDENCE)
    before = previous.select("person_id", prev="household_id")
    staying = (
        membership.filter(evidenced)
        .join(before, on="person_id")
        .group_by("prev", "anchor")
        .agg(n=pl.len())
        .sort(["prev", "n", "anchor"], descending=[False, True, False])
        .unique("prev", keep="first")
        .select("prev", home="anchor")
    )
    moved = (
        membership.filter(~evidenced.fill_null(False))
        .join(before, on="person_id")
        .join(staying, on="prev")
        .filter(pl.col("home") != pl.col("anchor"))
        .select("person_id", "home")
    )
    if moved.height == 0:
        return membership
    return (
        membership.join(moved, on="person_id", how="left")
        .with_columns(
            anchor=pl.coalesce("home", "anchor"),
            evidence=pl.when(pl.col("home").is_not_null()).then(pl.lit("previous_household")).otherwise("evidence"),
        )
        .drop("home")
    )


_HEAD_RANK = {"civil_affairs": 0, "housing": 1, "water": 2}


def _heads(mentions: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    """``person_id, is_head, relation``: one head per household.

    The civil-affairs head (户主) first, then the person housing or water names,
    then a guardian who is a parent, then the eldest.
    """
    m = mentions.join(membership.select("person_id", "anchor"), on="person_id")
    rank = (
        pl.when((pl.col("department") == "civil_affairs") & (pl.col("relation") == "户主")).then(0)
        .when(pl.col("department") == "housing").then(1)
        .when(pl.col("department") == "water").then(2)
        .when(pl.col("guardian_relation").is_in(["父亲", "母亲"])).then(3)
        .otherwise(4)
    )
    per_person = m.group_by("anchor", "person_id").agg(
        rank=rank.min(),
        birth=pl.col("birth_date").min(),
        relation=pl.col("relation").filter(pl.col("department") == "civil_affairs").sort().first(),
    )
    head = (
        per_person.sort(["anchor", "rank", "birth", "person_id"], nulls_last=True)
        .unique("anchor", keep="first")
        .select("person_id", is_head=pl.lit(True))
    )
    return (
        per_person.join(head, on="person_id", how="left")
        .select(
            "person_id",
            is_head=pl.col("is_head").fill_null(False),
            relation=pl.when(pl.col("is_head").fill_null(False)).then(pl.lit("户主")).otherwise(pl.col("relation")),
        )
    )


def households_by_snapshot(
    mentions: pl.DataFrame,
    previous: pl.DataFrame | None = None,
    dates: list[dt.date] | None = None,
    stable_ids: bool = True,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Household membership at every snapshot date, with stable household IDs.

    ``mentions`` must carry ``person_id``. ``previous``: an earlier run's
    membership (``snapshot_date, person_id, household_id, is_head``); a date it
    covers is re-assigned from its own earlier answer, a new date from the
    previous date's. Returns ``(membership, lineage)`` with ``membership``
    columns ``snapshot_date, person_id, household_id, is_head, relation,
    evidence``. ``stable_ids=False`` (a draft) labels households by their
    throw-away cluster, chooses no heads (``is_head``, ``relation`` null) and
    writes no lineage.
    """
    if dates is None:
        dates = sorted(mentions.get_column("snapshot_date").unique().drop_nulls().to_list())
    coded, persons = encode(mentions)
    prev = previous if previous is not None and previous.height else None
    used_ids = set(prev.get_column("household_id").to_list()) if prev is not None else set()
    out, lineage = [], []
    last: pl.DataFrame | None = None
    for date in dates:
        before = last
        if prev is not None:
            stored = prev.filter(pl.col("snapshot_date") == date)
            if stored.height:
                before = stored
            elif before is None:
                earlier = prev.filter(pl.col("snapshot_date") < date)
                if earlier.height:
                    before = earlier.filter(pl.col("snapshot_date") == earlier["snapshot_date"].max())
        clusters = _decode(
            _form(mentions_as_of(coded, date), _encode_previous(before, persons), heads=stable_ids,
                  refused=left_their_case(coded, date)),
            persons,
        )
        before_frame = None if before is None else before.select(
            member="person_id", id="household_id",
            created=pl.col("created") if "created" in before.columns else pl.lit(None, dtype=pl.Date),
            is_head="is_head",
        )
        if not stable_ids:
            # A draft: the throw-away cluster labels are enough to tell who lives with whom.
            last = clusters.with_columns(
                household_id=pl.col("cluster"), created=pl.lit(None, dtype=pl.Date), snapshot_date=pl.lit(date, dtype=pl.Date)
            )
            out.append(last.select(*MEMBERSHIP_SCHEMA, "created"))
            continue
        assignment, events = assign_stable_ids(
            before_frame,
            clusters.select(member="person_id", cluster="cluster", is_head="is_head"),
            entity="household", prefix="H", snapshot_date=date, used_ids=used_ids,
        )
        used_ids.update(assignment.get_column("id").to_list())
        snapshot = clusters.join(
            assignment.select(person_id="member", household_id="id", created="created"), on="person_id"
        ).with_columns(snapshot_date=pl.lit(date, dtype=pl.Date))
        last = snapshot
        out.append(snapshot.select(*MEMBERSHIP_SCHEMA, "created"))
        lineage.append(events)
    if not out:
        return (pl.DataFrame(schema=MEMBERSHIP_SCHEMA | {"created": pl.Date}), pl.DataFrame(schema=LINEAGE_SCHEMA))
    return pl.concat(out), (pl.concat(lineage) if lineage else pl.DataFrame(schema=LINEAGE_SCHEMA))


def same_name_in_household(mentions: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    """Person pairs ``a, b`` that household evidence says are one person.

    A record with no usable ID (a water head, a guardian written by ear) that
    person linkage left on its own but household evidence placed in a
    household is the member of that household with the same toneless pinyin,
    provided exactly one member qualifies, at most one of the two has a valid
    ID, and birth date and gender do not disagree.
    """
    mentions = mentions.select("snapshot_date", "person_id", "name_pinyin", "id_status", "birth_date", "gender")
    named = (
        mentions.select("snapshot_date", "person_id", "name_pinyin").drop_nulls().unique()
        .join(membership.select("snapshot_date", "person_id", "household_id"), on=["snapshot_date", "person_id"])
    )
    namesakes = (
        named.join(named, on=["snapshot_date", "household_id", "name_pinyin"], suffix="_b")
        .filter(pl.col("person_id") < pl.col("person_id_b"))
        .select("person_id", "person_id_b").unique()
    )
    # Summaries only for the persons of a same-name pair in one household, not for every person.
    people = (
        mentions.join(pl.concat([namesakes["person_id"], namesakes["person_id_b"]]).unique().to_frame(),
                      on="person_id", how="semi")
        .group_by("person_id").agg(
            has_valid=pl.col("id_status").is_in(VALID_ID_STATUSES).any(),
            birth=pl.col("birth_date").drop_nulls().mode().sort().first(),
            gender=pl.col("gender").drop_nulls().mode().sort().first(),
        )
    )
    pairs = (
        namesakes.join(people, on="person_id")
        .join(people.rename(lambda c: f"{c}_b"), on="person_id_b")
        .filter(~(pl.col("has_valid") & pl.col("has_valid_b")))
        .filter(pl.col("birth").is_null() | pl.col("birth_b").is_null() | (pl.col("birth") == pl.col("birth_b")))
        .filter(pl.col("gender").is_null() | pl.col("gender_b").is_null() | (pl.col("gender") == pl.col("gender_b")))
        .select(a="person_id", b="person_id_b")
        .unique()
    )
    # ambiguous when a person has two candidates
    ends = pl.concat([pairs.select(p="a"), pairs.select(p="b")]).group_by("p").len()
    ambiguous = ends.filter(pl.col("len") > 1).get_column("p")
    return pairs.filter(~pl.col("a").is_in(ambiguous.implode()) & ~pl.col("b").is_in(ambiguous.implode()))



def named_adult_in_village(mentions: pl.DataFrame, membership: pl.DataFrame | None = None) -> pl.DataFrame:
    """Person pairs ``a, b``: a person known only from household-level records is the one adult of that name in the village.

    A water survey or a housing register names the household's head or owner
    with no ID and often no birth date, written by ear. Person linkage left on
    their own the persons whose every mention is such a naming (a head, an
    owner, a guardian) with no valid ID. Each is taken to be the person of the
    same village with the same toneless pinyin who has a record of their own
    and is an adult (or of unknown age) of a compatible gender, provided that
    person is the only one, and does not already hold a record of the same
    department and role in the same snapshot.

    When two or more adults of that name live in the village (李伟, 张伟), the
    record's own contact details decide, and only when they single out one
    candidate (``_contact_choice``): first its phone, then the group number of
    its address. ``membership`` (``snapshot_date, person_id, household_id``,
    e.g. a draft) lets a candidate's household lend its phones and addresses:
    a household often shares one phone, registered under another member. It
    also vetoes a link the households contradict (``_household_conflicts``).
    A guardian signing for several children holds several guardian records
    of one snapshot: that is no clash.
    """
    mentions = mentions.select(
        "snapshot_date", "person_id", "department", "role", "id_status", "village_code", "name_pinyin", "birth_date",
        "gender", "case_no", "family_no", "phone", "address",
    )
    # Orphans first, then summaries only for them and their namesakes, not for every person.
    has_own_record = ~pl.col("role").is_in(NAMING_ROLES) | pl.col("id_status").is_in(VALID_ID_STATUSES)
    orphans = (
        mentions.filter(pl.col("role").is_in(NAMING_ROLES)).select("person_id").unique()
        .join(mentions.filter(has_own_record).select("person_id").unique(), on="person_id", how="anti")
    )
    if orphans.height == 0:
        return pl.DataFrame(schema={"a": pl.String, "b": pl.String})
    of_orphans = mentions.join(orphans, on="person_id", how="semi")
    orphans = of_orphans.group_by("person_id").agg(
        gender=pl.col("gender").drop_nulls().mode().sort().first(), seen=pl.col("snapshot_date").min()
    )
    place_name = ["village_code", "name_pinyin"]
    wanted = of_orphans.select("person_id", *place_name).drop_nulls().unique().join(orphans, on="person_id")
    namesakes = (
        mentions.join(wanted.select(place_name).unique(), on=place_name, how="semi")
        .join(orphans, on="person_id", how="anti")
    )
    candidates = (
        namesakes.select("person_id", *place_name).unique()
        .join(
            mentions.join(namesakes.select("person_id").unique(), on="person_id", how="semi")
            .group_by("person_id").agg(
                cand_birth=pl.col("birth_date").drop_nulls().min(),
                cand_gender=pl.col("gender").drop_nulls().mode().sort().first(),
            ),
            on="person_id",
        )
        .rename({"person_id": "candidate"})
    )
    matches = (
        wanted.join(candidates, on=place_name)
        .filter(
            pl.col("cand_birth").is_null()
            | ((pl.col("seen") - pl.col("cand_birth")).dt.total_days() >= int(ADULT_AGE * 365.25))
        )
        .filter(pl.col("gender").is_null() | pl.col("cand_gender").is_null()
                | (pl.col("gender") == pl.col("cand_gender")))
        .select("person_id", "candidate")
        .unique()
    )
    unique = pl.concat([
        matches.filter(pl.len().over("person_id") == 1),
        _contact_choice(mentions, matches.filter(pl.len().over("person_id") > 1), membership),
    ])
    # The orphan's own records must not clash with a record the candidate holds (one per department, role,
    # snapshot). A guardian is exempt: a mother signs as the guardian of each of her children.
    involved = pl.concat([unique["person_id"], unique["candidate"]]).unique().to_frame("person_id")
    slots = (
        mentions.join(involved, on="person_id", how="semi").filter(pl.col("role") != "guardian")
        .select("person_id", "department", "role", "snapshot_date").unique()
    )
    clash = (
        unique.join(slots, on="person_id")
        .join(slots.rename({"person_id": "candidate"}), on=["candidate", "department", "role", "snapshot_date"])
        .select("person_id")
    )
    unique = unique.join(clash, on="person_id", how="anti")
    if membership is not None and membership.height:
        unique = unique.join(
            _household_conflicts(mentions, unique, membership), on=["person_id", "candidate"], how="anti"
        )
    return unique.select(a="person_id", b="candidate")


def _household_conflicts(mentions: pl.DataFrame, pairs: pl.DataFrame, membership: pl.DataFrame) -> pl.DataFrame:
    """``person_id, candidate`` pairs whose households say they are two people.

    An orphan's own records (the children a guardian signs for, the phone a
    water survey gives) can already place it in a household. When that
    household is an enrolled unit (one of its members is on a civil-affairs
    case or in a health family), and the same-name candidate belongs, at the
    same snapshot, to another enrolled household, the two records are of two
    namesakes living apart: linking them would fuse two families through one
    name.
    """
    enrolled_persons = mentions.filter(
        pl.col("case_no").is_not_null() | pl.col("family_no").is_not_null()
    ).select("person_id").unique()
    at = membership.select("snapshot_date", "person_id", "household_id")
    enrolled = at.join(enrolled_persons, on="person_id", how="semi").select("snapshot_date", "household_id").unique()
    orphan_home = at.join(enrolled, on=["snapshot_date", "household_id"], how="semi").join(
        pairs, on="person_id"
    )
    candidate_home = at.join(enrolled, on=["snapshot_date", "household_id"], how="semi").select(
        "snapshot_date", candidate="person_id", candidate_household="household_id"
    )
    return (
        orphan_home.join(candidate_home, on=["snapshot_date", "candidate"])
        .filter(pl.col("household_id") != pl.col("candidate_household"))
        .select("person_id", "candidate").unique()
    )


_ZH_UNITS = "一二三四五六七八九"


def _zh_numeral(n: int, one_ten: bool = False) -> str:
    """1..99 in Chinese numerals: 3 -> 三, 12 -> 十二 (一十二 with ``one_ten``), 20 -> 二十."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("一十" if one_ten else "十") if tens == 1 else _ZH_UNITS[tens - 1] + "十"
    return head + ("" if ones == 0 else _ZH_UNITS[ones - 1])


#: Chinese group numbers as written (一 ... 九十九, 一十二, 两), for a dictionary lookup instead of a Python call per row.
_ZH_GROUP_NUMBERS = {_zh_numeral(n, one_ten): str(n) for n in range(1, 100) for one_ten in (False, True)} | {"两": "2"}


def address_group() -> pl.Expr:
    """The village group (组 / 社 / 村民小组) an address names, as a number in text, else null.

    Real addresses are written in full or cut down to the village and group
    (``XX村3组``, ``XX村三组``, ``第三村民小组``); the group number is the part
    every form keeps. Full-width digits count as digits.
    """
    text = pl.col("address").str.replace_all(r"\s", "")
    for i, wide in enumerate("０１２３４５６７８９"):
        text = text.str.replace_all(wide, str(i), literal=True)
    raw = (
        text.str.extract_all(r"[0-9零〇一二两三四五六七八九十]+(?:村民小组|小组|组|社)").list.last()
        .str.extract(r"^([0-9]+|[零〇一二两三四五六七八九十]+)", 1)
    )
    digits = raw.str.replace(r"^0+", "")
    return (
        pl.when(raw.str.contains(r"^[0-9]+$")).then(pl.when(digits == "").then(None).otherwise(digits))
        .otherwise(raw.replace_strict(_ZH_GROUP_NUMBERS, default=None, return_dtype=pl.String))
    )


def _contact_choice(
    mentions: pl.DataFrame, ambiguous: pl.DataFrame, membership: pl.DataFrame | None
) -> pl.DataFrame:
    """``person_id, candidate``: of an orphan's several same-name candidates, the one its contact details single out.

    The orphan's records (a water survey, a housing register) carry a phone and
    an address. A candidate is matched by phone when that phone is one of the
    candidate's own records' phones or, with ``membership``, of their
    household's members' records; by address when the address names the same
    village group as one of those records (the candidates all live in the
    orphan's village, so the group number alone is compared: a blank village
    code does not hide it). Phone first: when exactly one candidate shares a
    phone, it is the one; when none does, the address group decides if exactly
    one candidate's records or household are in that group. Anything
    else (two candidates with the phone, or the group, or none) links nothing.
    Placeholder phones and phones shared by more than ``MAX_PERSONS_PER_PHONE``
    persons say nothing. The orphans' own records never lend evidence to a
    candidate.
    """
    empty = pl.DataFrame(schema={"person_id": pl.String, "candidate": pl.String})
    if ambiguous.height == 0:
        return empty
    orphans = ambiguous.select("person_id").unique()
    candidates = ambiguous.select("candidate").unique()
    # Whose records count: each candidate's own and, per snapshot, their household's members'.
    known_by = candidates.select("candidate", person_id="candidate").join(
        mentions.select("snapshot_date", "person_id").unique(), on="person_id"
    )
    if membership is not None and membership.height:
        mates = membership.select("snapshot_date", "person_id", "household_id")
        known_by = pl.concat([
            known_by,
            mates.rename({"person_id": "candidate"}).join(candidates, on="candidate", how="semi")
            .join(mates, on=["snapshot_date", "household_id"])
            .select("candidate", "person_id", "snapshot_date"),
        ]).unique()
    # The orphans' own records never vouch for a candidate.
    known_by = known_by.join(orphans, on="person_id", how="anti")
    common = (
        mentions.filter(pl.col("phone").is_not_null())
        .group_by("phone").agg(n=pl.col("person_id").n_unique())
        .filter(pl.col("n") > MAX_PERSONS_PER_PHONE).get_column("phone")
    )
    relevant = pl.concat([orphans.get_column("person_id"), known_by.get_column("person_id")]).unique()
    phone_ok = pl.col("phone").is_not_null() & ~placeholder_phone() & ~pl.col("phone").is_in(common.implode())
    contact = mentions.filter(pl.col("person_id").is_in(relevant.implode())).select(
        "snapshot_date", "person_id", phone=pl.when(phone_ok).then(pl.col("phone")), group=address_group(),
    )
    own = contact.join(orphans, on="person_id", how="semi")
    lent = known_by.join(contact, on=["snapshot_date", "person_id"]).select("candidate", "phone", "group")
    phones = lent.select("candidate", "phone").drop_nulls().unique()
    groups = lent.select("candidate", "group").drop_nulls().unique()
    own_phones = own.select("person_id", "phone").drop_nulls().unique()
    own_groups = own.select("person_id", "group").drop_nulls().unique()
    by_phone = (
        ambiguous.join(own_phones, on="person_id").join(phones, on=["candidate", "phone"])
        .select("person_id", "candidate").unique()
    )
    by_group = (
        ambiguous.join(own_groups, on="person_id").join(groups, on=["candidate", "group"])
        .select("person_id", "candidate").unique()
    )
    phone_pick = by_phone.filter(pl.len().over("person_id") == 1)
    group_pick = (
        by_group.join(by_phone.select("person_id").unique(), on="person_id", how="anti")
        .filter(pl.len().over("person_id") == 1)
    )
    return pl.concat([phone_pick, group_pick]).select("person_id", "candidate")
