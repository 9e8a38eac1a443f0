import datetime as dt

import polars as pl

from entity_resolution.household.households import (
    form_households,
    households_by_snapshot,
    mentions_as_of,
    named_adult_in_village,
)
from entity_resolution.household.mentions import build_mentions

from household_frames import frame, make_id

D1, D2 = dt.date(2026, 1, 5), dt.date(2026, 2, 5)
V = "529901100200"
WIDOW = make_id("529901", dt.date(1950, 3, 1), 2)
SON = make_id("529901", dt.date(1975, 6, 9), 13)
WIFE = make_id("529901", dt.date(1978, 1, 2), 24)
GRANDSON = make_id("529901", dt.date(2012, 9, 9), 35)
NAMES = {WIDOW: "李秀英", SON: "王建国", WIFE: "张丽", GRANDSON: "王小明"}


def with_person_ids(mentions: pl.DataFrame) -> pl.DataFrame:
    """Persons known in advance: the ID number, else the name (these tests are about households)."""
    by_name = {v: k for k, v in NAMES.items()}
    return mentions.with_columns(
        person_id=pl.coalesce("id_number", pl.col("name").replace_strict(by_name, default=None))
    )


def health(snapshot, family):
    return frame("health", snapshot, [
        {"record_id": f"H{i}", "name": NAMES[p], "id_number": p, "family_no": fam, "village_code": V, "phone": "13912345678"}
        for i, (p, fam) in enumerate(family)
    ])


def civil(snapshot, members):
    return frame("civil_affairs", snapshot, [
        {"record_id": f"C{i}", "case_no": case, "name": NAMES[p], "id_number": p, "relation": rel, "village_code": V}
        for i, (p, case, rel) in enumerate(members)
    ])


def test_widow_heads_civil_affairs_and_house_listed_under_son_attaches_to_her_household():
    frames = {
        "civil_affairs": civil(D1, [(WIDOW, "CA1", "户主"), (SON, "CA1", "子"), (GRANDSON, "CA1", "孙子")]),
        "housing": frame("housing", D1, [{"record_id": "F1", "owner_name": "王建国", "owner_id_number": SON, "village_code": V}]),
        "health": health(D1, [(WIDOW, "F9"), (SON, "F9"), (GRANDSON, "F9")]),
        "water": frame("water", D1, [{"record_id": "W1", "head_name": "王建国", "phone": "13912345678", "village_code": V}]),
    }
    mentions = with_person_ids(build_mentions(frames))
    households = form_households(mentions)
    assert households["cluster"].n_unique() == 1
    head = households.filter("is_head")["person_id"].to_list()
    assert head == [WIDOW]
    assert households.filter(pl.col("person_id") == SON)["relation"].item() == "子"


def test_newer_civil_affairs_split_beats_stale_family_no():
    baby = "王小宝"
    NAMES["baby"] = baby
    try:
        frames = {
            "civil_affairs": pl.concat([
                civil(D1, [(WIDOW, "CA1", "户主"), (SON, "CA1", "子"), (WIFE, "CA1", "儿媳"), (GRANDSON, "CA1", "孙子")]),
                civil(D2, [(WIDOW, "CA1", "户主"), (SON, "CA2", "户主"), (WIFE, "CA2", "配偶"), (GRANDSON, "CA2", "子")]),
            ], how="diagonal_relaxed"),
            # health still enrols everyone under one family_no, plus a newborn only health knows
            "health": pl.concat([
                health(D1, [(WIDOW, "F1"), (SON, "F1"), (WIFE, "F1"), (GRANDSON, "F1")]),
                frame("health", D2, [
                    {"record_id": f"H{i}", "name": NAMES[p], "id_number": None if p == "baby" else p, "family_no": "F1", "village_code": V}
                    for i, p in enumerate([WIDOW, SON, WIFE, GRANDSON, "baby"])
                ]),
            ], how="diagonal_relaxed"),
        }
        mentions = with_person_ids(build_mentions(frames))
        mentions = mentions.with_columns(person_id=pl.coalesce("person_id", pl.col("name")))
        membership, lineage = households_by_snapshot(mentions)
        at = {d: dict(membership.filter(pl.col("snapshot_date") == d).select("person_id", "household_id").iter_rows())
              for d in (D1, D2)}
        assert len(set(at[D1].values())) == 1
        original = at[D1][WIDOW]
        # the widow, head of the original case, keeps the household ID
        assert at[D2][WIDOW] == original
        assert at[D2][SON] == at[D2][WIFE] == at[D2][GRANDSON] != original
        # the newborn goes with the majority of the stale family group (the son's new case)
        assert at[D2]["baby"] == at[D2][SON]
        events = set(lineage.filter(pl.col("snapshot_date") == D2).select("id", "event", "other_id").iter_rows())
        assert (at[D2][SON], "split", original) in events
    finally:
        NAMES.pop("baby")


def _taken_off_the_case(son_family_phone: str, son_family_address: str = "营坝村5组") -> dict[dt.date, dict[str, str]]:
    """The widow's case drops her son's family at D2 and they get no case of their own; health
    still enrols all four under her family_no. Household IDs per person at each date."""
    phones = {WIDOW: "13912345678", SON: son_family_phone, WIFE: son_family_phone, GRANDSON: son_family_phone}
    addresses = {WIDOW: "营坝村3组", SON: son_family_address, WIFE: son_family_address, GRANDSON: son_family_address}
    everyone = [(WIDOW, "户主"), (SON, "子"), (WIFE, "儿媳"), (GRANDSON, "孙子")]
    frames = {
        "civil_affairs": pl.concat([
            civil(D1, [(p, "CA1", rel) for p, rel in everyone]), civil(D2, [(WIDOW, "CA1", "户主")]),
        ], how="diagonal_relaxed"),
        "health": pl.concat([
            frame("health", d, [{"record_id": f"H{i}", "name": NAMES[p], "id_number": p, "family_no": "F1",
                                 "village_code": V, "phone": phones[p], "address": addresses[p]}
                                for i, (p, _) in enumerate(everyone)])
            for d in (D1, D2)
        ], how="diagonal_relaxed"),
    }
    membership, _ = households_by_snapshot(with_person_ids(build_mentions(frames)))
    return {d: dict(membership.filter(pl.col("snapshot_date") == d).select("person_id", "household_id").iter_rows())
            for d in (D1, D2)}


def test_family_taken_off_the_case_and_sharing_no_phone_has_left_despite_a_stale_family_no():
    at = _taken_off_the_case(son_family_phone="13687654321")
    assert len(set(at[D1].values())) == 1
    assert at[D2][WIDOW] == at[D1][WIDOW]
    assert at[D2][SON] == at[D2][WIFE] == at[D2][GRANDSON] != at[D2][WIDOW]


def test_members_taken_off_the_case_who_share_its_phone_or_home_still_live_there():
    # a roster also drops members who stay at home (found work, no longer covered)
    for at in (_taken_off_the_case(son_family_phone="13912345678"),
               _taken_off_the_case(son_family_phone="13687654321", son_family_address="营坝村三组")):
        assert len(set(at[D2].values())) == 1 and at[D2][SON] == at[D1][WIDOW]


def test_a_case_that_ended_altogether_splits_nobody():
    frames = {
        # the next roster holds other households only: CA1 left assistance
        "civil_affairs": pl.concat([
            civil(D1, [(WIDOW, "CA1", "户主"), (SON, "CA1", "子")]), civil(D2, [(GRANDSON, "CA7", "户主")]),
        ], how="diagonal_relaxed"),
        "health": pl.concat([health(d, [(WIDOW, "F1"), (SON, "F1")]) for d in (D1, D2)], how="diagonal_relaxed"),
    }
    membership, _ = households_by_snapshot(with_person_ids(build_mentions(frames)))
    at_d2 = dict(membership.filter(pl.col("snapshot_date") == D2).select("person_id", "household_id").iter_rows())
    assert at_d2[WIDOW] == at_d2[SON]


def test_guardian_links_student_household_and_phone_attaches_isolated_water_record():
    frames = {
        "education": frame("education", D1, [{
            "record_id": "E1", "name": "王小明", "id_number": GRANDSON, "guardian_name": "王建国",
            "guardian_relation": "父亲", "guardian_phone": "13912345678", "village_code": V,
        }]),
        "health": health(D1, [(SON, "F1"), (WIFE, "F1")]),
        # a homophone of the head's name that person linkage did not resolve
        "water": frame("water", D1, [{"record_id": "W1", "head_name": "王建囯", "phone": "13912345678", "village_code": V}]),
    }
    mentions = build_mentions(frames)
    guardian = mentions.filter(pl.col("role") == "guardian")
    assert guardian["gender"].item() == "男"
    assert guardian["student_mention_id"].item() == "education|E1|subject|2026-01-05"
    mentions = with_person_ids(mentions).with_columns(person_id=pl.coalesce("person_id", "name"))
    households = form_households(mentions)
    assert households["cluster"].n_unique() == 1
    assert households.filter(pl.col("person_id") == "王建囯")["evidence"].item() == "phone_address"


def test_placeholder_phone_links_nobody():
    frames = {
        "water": frame("water", D1, [
            {"record_id": "W1", "head_name": "王建国", "phone": "13800000000", "village_code": V},
            {"record_id": "W2", "head_name": "李四", "phone": "13800000000", "village_code": V},
        ]),
    }
    mentions = build_mentions(frames).with_columns(person_id=pl.col("name"))
    assert form_households(mentions)["cluster"].n_unique() == 2


def test_mentions_as_of_takes_latest_snapshot_per_department():
    frames = {"health": pl.concat([health(D1, [(WIDOW, "F1")]), health(D2, [(SON, "F1")])])}
    mentions = build_mentions(frames)
    assert mentions_as_of(mentions, D1)["id_number"].to_list() == [WIDOW]
    assert mentions_as_of(mentions, dt.date(2026, 3, 1))["id_number"].to_list() == [SON]


def test_member_missing_from_one_extract_keeps_the_household_id():
    # January: son and wife enrolled together in health, the son also owns the house.
    # July: health's extract misses the son; only his housing record is left, which says nothing of a move.
    january = health(D1, [(SON, "F1"), (WIFE, "F1")])
    july = health(D2, [(WIFE, "F1")])
    housing = pl.concat([
        frame("housing", day, [{"record_id": "F1", "owner_name": "王建国", "owner_id_number": SON, "village_code": V,
                                "phone": "13700001111"}])
        for day in (D1, D2)
    ], how="diagonal_relaxed")
    frames = {"health": pl.concat([january, july], how="diagonal_relaxed"), "housing": housing}
    membership, _ = households_by_snapshot(with_person_ids(build_mentions(frames)))
    ids = {(row["snapshot_date"], row["person_id"]): row["household_id"] for row in membership.iter_rows(named=True)}
    assert ids[(D1, SON)] == ids[(D1, WIFE)]
    assert ids[(D2, SON)] == ids[(D2, WIFE)] == ids[(D1, WIFE)]


def _two_li_wei(water_rows):
    """Two adults named 李伟 in one village, each in a household with its own phone and group; water records as given."""
    li_a = make_id("529901", dt.date(1970, 1, 1), 11)
    li_b = make_id("529901", dt.date(1980, 1, 1), 31)
    wife_a = make_id("529901", dt.date(1972, 1, 1), 22)
    frames = {
        "health": frame("health", D1, [
            {"record_id": "H1", "name": "李伟", "id_number": li_a, "family_no": "FA", "village_code": V,
             "address": "某镇某村3组"},
            # the household's phone is registered under the wife
            {"record_id": "H2", "name": "张芳", "id_number": wife_a, "family_no": "FA", "village_code": V,
             "phone": "13912345678", "address": "某村三组"},
            {"record_id": "H3", "name": "李伟", "id_number": li_b, "family_no": "FB", "village_code": V,
             "phone": "13987654321", "address": "某村7组"},
        ]),
        "water": frame("water", D1, [{"record_id": f"W{i}", "head_name": "李伟", "village_code": V, **row}
                                     for i, row in enumerate(water_rows)]),
    }
    mentions = build_mentions(frames).with_columns(
        person_id=pl.coalesce("id_number", pl.concat_str([pl.lit("w"), "record_id"]))
    )
    membership = households_by_snapshot(mentions, stable_ids=False)[0]
    return named_adult_in_village(mentions, membership), li_a, li_b


def test_id_less_head_with_two_same_name_adults_is_decided_by_household_phone_or_group():
    pairs, li_a, li_b = _two_li_wei([
        {"phone": "13912345678", "address": "某村"},           # the wife's phone: household A
        {"phone": "13800000000", "address": "某村七组"},       # placeholder phone; group 7: B
        {"phone": "13955501234", "address": "云岭州某村3组"},  # unknown phone; group 3: A
    ])
    assert sorted(pairs.rows()) == sorted([("wW0", li_a), ("wW1", li_b), ("wW2", li_a)])


def test_id_less_head_with_two_same_name_adults_and_nothing_to_tell_them_apart_stays_unlinked():
    pairs, _, _ = _two_li_wei([
        {"phone": "13955501234", "address": "某村"},     # neither phone nor group
        {"phone": None, "address": "某村5组"},           # a group nobody of that name lives in
    ])
    assert pairs.height == 0


def _draft_pairs(frames):
    """``named_adult_in_village`` on a draft: persons by valid ID number, every ID-less mention its own person."""
    mentions = build_mentions(frames).with_columns(
        person_id=pl.when(pl.col("id_status") == "valid").then(pl.col("id_number"))
        .otherwise(pl.concat_str([pl.col("record_id"), pl.col("role")], separator="|"))
    )
    membership = households_by_snapshot(mentions, stable_ids=False)[0]
    return named_adult_in_village(mentions, membership), mentions


MOTHER = make_id("529901", dt.date(1985, 4, 4), 26)
CHILD_1 = make_id("529901", dt.date(2014, 5, 5), 37)
CHILD_2 = make_id("529901", dt.date(2016, 6, 6), 48)


def test_id_less_guardian_is_the_mother_who_signs_for_another_child_too():
    # She signs for one child with her ID number and for the other without; signing twice is no clash.
    frames = {
        "health": frame("health", D1, [{"record_id": "H1", "name": "谢敏", "id_number": MOTHER, "family_no": "F1",
                                        "village_code": V}]),
        "education": frame("education", D1, [
            {"record_id": "E1", "name": "秦娜", "id_number": CHILD_1, "guardian_name": "谢敏",
             "guardian_id_number": MOTHER, "guardian_relation": "母亲", "village_code": V},
            {"record_id": "E2", "name": "秦光伟", "id_number": CHILD_2, "guardian_name": "谢敏",
             "guardian_relation": "母亲", "village_code": V},
        ]),
    }
    pairs, _ = _draft_pairs(frames)
    assert pairs.rows() == [("E2|guardian", MOTHER)]


def test_id_less_namings_whose_household_is_another_family_are_not_the_namesake():
    # Two 王秀芳 and two 杨伟 in one village. The only one with records of her own is enrolled in family F1;
    # the ID-less guardian signs for children of family F2, and the ID-less water head gives the phone of a
    # member of family F2: both name the F2 household's own 王秀芳 / 杨伟, who has no record of their own.
    other = make_id("529901", dt.date(1960, 1, 1), 15)
    frames = {
        "health": frame("health", D1, [
            {"record_id": "H1", "name": "王秀芳", "id_number": MOTHER, "family_no": "F1", "village_code": V},
            {"record_id": "H2", "name": "杨伟", "id_number": other, "family_no": "F1", "village_code": V},
            {"record_id": "H3", "name": "张敏芳", "id_number": CHILD_1, "family_no": "F2", "village_code": V,
             "phone": "13912340000"},
        ]),
        "education": frame("education", D1, [{
            "record_id": "E1", "name": "张敏芳", "id_number": CHILD_1, "guardian_name": "王秀芳",
            "guardian_relation": "母亲", "village_code": V,
        }]),
        "water": frame("water", D1, [{"record_id": "W1", "head_name": "杨伟", "phone": "13912340000",
                                      "village_code": V}]),
    }
    pairs, _ = _draft_pairs(frames)
    assert pairs.height == 0


def test_water_record_naming_father_or_son_of_one_name_joins_their_household():
    father = make_id("529901", dt.date(1960, 1, 1), 15)
    son = make_id("529901", dt.date(1988, 1, 1), 17)
    neighbour = make_id("529901", dt.date(1970, 1, 1), 19)
    frames = {
        "health": frame("health", D1, [
            {"record_id": "H1", "name": "覃伟", "id_number": father, "family_no": "F1", "village_code": V},
            {"record_id": "H2", "name": "覃伟", "id_number": son, "family_no": "F1", "village_code": V},
            {"record_id": "H3", "name": "陆平", "id_number": neighbour, "family_no": "F2", "village_code": V},
        ]),
        "housing": frame("housing", D1, [
            {"record_id": "F1", "owner_name": "陆平", "owner_id_number": MOTHER, "village_code": V},
            # a third 覃伟, born 1940 by his damaged ID number: neither of the household's two
            {"record_id": "F2", "owner_name": "覃伟", "owner_id_number": make_id("529901", dt.date(1940, 1, 1), 15)[:-1] + "0",
             "owner_id_number_status": "bad_check_digit", "village_code": V},
        ]),
        "water": frame("water", D1, [
            {"record_id": "W1", "head_name": "覃伟", "village_code": V},
            # two households hold a 陆平 (F2's, and the owner of house F1): nothing tells which one is meant
            {"record_id": "W2", "head_name": "陆平", "village_code": V},
        ]),
    }
    mentions = build_mentions(frames).with_columns(
        person_id=pl.when(pl.col("id_status") == "valid").then(pl.col("id_number"))
        .otherwise(pl.concat_str([pl.lit("w"), "record_id"]))
    )
    households = form_households(mentions)
    home = dict(households.select("person_id", "cluster").iter_rows())
    assert home["wW1"] == home[father] == home[son]
    assert home["wF2"] != home[father]
    assert households.filter(pl.col("person_id") == "wW1")["evidence"].item() == "named_member"
    assert home["wW2"] not in (home[neighbour], home[MOTHER])


def test_a_shared_phone_joins_no_two_health_families_but_places_a_guardian_and_child():
    a, b = make_id("529901", dt.date(1970, 1, 1), 11), make_id("529901", dt.date(1972, 1, 1), 22)
    c, d = make_id("529901", dt.date(1971, 1, 1), 13), make_id("529901", dt.date(1973, 1, 1), 24)
    frames = {
        "health": frame("health", D1, [
            {"record_id": "H1", "name": "甲", "id_number": a, "family_no": "F1", "village_code": V},
            {"record_id": "H2", "name": "乙", "id_number": b, "family_no": "F1", "village_code": V, "phone": "13912345678"},
            {"record_id": "H3", "name": "丙", "id_number": c, "family_no": "F2", "village_code": V},
            {"record_id": "H4", "name": "丁", "id_number": d, "family_no": "F2", "village_code": V, "phone": "13987654321"},
        ]),
        # F1's phone on a water survey that person linkage gave to 丙 of F2 (a namesake mix-up)
        "water": frame("water", D1, [{"record_id": "W1", "head_name": "丙", "village_code": V, "phone": "13912345678"}]),
        # a child not enrolled in health, and their guardian, who gives F2's phone
        "education": frame("education", D1, [{
            "record_id": "E1", "name": "小丁", "id_number": CHILD_1, "guardian_name": "戊",
            "guardian_relation": "母亲", "guardian_phone": "13987654321", "village_code": V,
        }]),
    }
    mentions = build_mentions(frames).with_columns(
        person_id=pl.when(pl.col("department") == "water").then(pl.lit(c))
        .otherwise(pl.coalesce("id_number", "name"))
    )
    home = dict(form_households(mentions).select("person_id", "cluster").iter_rows())
    assert home[a] == home[b] != home[c]
    assert home[c] == home[d] == home["戊"] == home[CHILD_1]


def test_child_left_on_the_grandparents_family_lives_with_the_guardian_who_moved_out():
    grandpa, grandma = make_id("529901", dt.date(1950, 1, 1), 11), make_id("529901", dt.date(1952, 1, 1), 22)
    frames = {
        "health": frame("health", D1, [
            {"record_id": "H1", "name": "王大", "id_number": grandpa, "family_no": "OLD", "village_code": V},
            {"record_id": "H2", "name": "李二", "id_number": grandma, "family_no": "OLD", "village_code": V},
            {"record_id": "H3", "name": "王小明", "id_number": CHILD_1, "family_no": "OLD", "village_code": V},
            {"record_id": "H4", "name": "张丽", "id_number": MOTHER, "family_no": "NEW", "village_code": V},
        ]),
        "education": frame("education", D1, [{
            "record_id": "E1", "name": "王小明", "id_number": CHILD_1, "guardian_name": "张丽",
            "guardian_id_number": MOTHER, "guardian_relation": "母亲", "village_code": V,
        }]),
    }
    mentions = build_mentions(frames).with_columns(person_id=pl.col("id_number"))
    households = form_households(mentions)
    home = dict(households.select("person_id", "cluster").iter_rows())
    assert home[CHILD_1] == home[MOTHER] != home[grandpa] == home[grandma]
    assert households.filter(pl.col("person_id") == CHILD_1)["evidence"].item() == "guardian"
