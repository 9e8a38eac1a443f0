import datetime as dt

import polars as pl

from entity_resolution.household.pipeline import LinkageState, link_households
from entity_resolution.household.quality import pairwise
from entity_resolution.household.review import DECISIONS_SCHEMA, latest_decisions, load_decisions
from household_frames import frame, make_id

D1, D2 = dt.date(2026, 1, 5), dt.date(2026, 2, 5)
V = "529901100200"
A = make_id("529901", dt.date(1950, 3, 1), 2)
B = make_id("529901", dt.date(1975, 6, 9), 13)


def frames(snapshot=D1):
    return {
        "health": frame("health", snapshot, [
            {"record_id": "H1", "name": "李秀英", "id_number": A, "family_no": "F1", "village_code": V, "phone": "13912345678"},
            {"record_id": "H2", "name": "王建国", "id_number": B, "family_no": "F1", "village_code": V, "phone": "13912345678"},
            {"record_id": "H3", "name": "赵大海", "id_number": None, "family_no": "F2", "village_code": V},
        ]),
        "civil_affairs": frame("civil_affairs", snapshot, [
            {"record_id": "C1", "case_no": "K1", "name": "李秀英", "id_number": A, "relation": "户主", "village_code": V},
            {"record_id": "C2", "case_no": "K1", "name": "王建国", "id_number": B, "relation": "子", "village_code": V},
        ]),
        "housing": frame("housing", snapshot, [{"record_id": "F1", "owner_name": "王建国", "owner_id_number": B, "village_code": V}]),
        "water": frame("water", snapshot, [{"record_id": "W1", "head_name": "钱多多", "village_code": V}]),
    }


def decisions(*rows):
    return pl.DataFrame(
        [(da, ra, db, rb, d, "reviewer", f"2026-02-0{i + 1}") for i, (da, ra, db, rb, d) in enumerate(rows)],
        schema=DECISIONS_SCHEMA, orient="row",
    )


def person_of(result, department, record_id):
    return result.record_link.filter((pl.col("department") == department) & (pl.col("record_id") == record_id))["person_id"].item()


def test_record_link_has_one_row_per_record_and_contract_columns():
    result = link_households(frames())
    link = result.record_link
    assert {"department", "record_id", "person_id", "household_id", "match_weight", "method"} <= set(link.columns)
    assert link.height == 7
    assert person_of(result, "health", "H2") == person_of(result, "civil_affairs", "C2") == person_of(result, "housing", "F1")
    assert set(link["method"]) <= {"id_exact", "probabilistic", "household_evidence", "review_decision", "singleton"}
    assert link.filter(pl.col("record_id") == "H2")["method"].item() == "id_exact"
    assert result.household.height == 3  # the case, F2, the water household
    assert {"normalise", "block", "compare", "score", "cluster", "households"} <= set(result.timings)


def test_review_decisions_force_and_forbid_links_in_every_later_run():
    decided = decisions(
        ("water", "W1", "health", "H3", "same"),           # unrelated names: a reviewer knows better
        ("health", "H1", "civil_affairs", "C1", "different"),  # same ID and name: kept apart anyway
    )
    for snapshot in (D1, D2):  # a later run with a new snapshot honours them too
        result = link_households(frames(snapshot), decisions=decided)
        assert person_of(result, "water", "W1") == person_of(result, "health", "H3")
        assert result.record_link.filter(pl.col("record_id") == "W1")["method"].item() == "review_decision"
        assert person_of(result, "health", "H1") != person_of(result, "civil_affairs", "C1")


def test_latest_decision_wins_and_csv_round_trip(tmp_path):
    decided = decisions(("health", "H1", "water", "W1", "same"), ("water", "W1", "health", "H1", "different"))
    assert latest_decisions(decided)["decision"].to_list() == ["different"]
    path = tmp_path / "review_decisions.csv"
    decided.write_csv(path)
    assert load_decisions(path).equals(decided)
    assert load_decisions(tmp_path / "missing.csv").height == 0


def test_rerun_with_state_keeps_ids_and_new_snapshot_keeps_them(tmp_path):
    first = link_households(frames())
    first.state.save(tmp_path)
    state = LinkageState.load(tmp_path)
    again = link_households(frames(), previous_state=state)
    key = ["department", "record_id", "snapshot_date"]
    assert again.record_link.select(*key, "person_id", "household_id").equals(
        first.record_link.select(*key, "person_id", "household_id"))
    both = {d: pl.concat([f, frames(D2)[d]]) for d, f in frames().items()}
    later = link_households(both, previous_state=state)
    ids = lambda r, d: dict(r.record_link.filter(pl.col("snapshot_date") == d).select(
        pl.concat_str(["department", "record_id"]), pl.concat_str(["person_id", "household_id"])).iter_rows())
    assert ids(later, D2) == ids(first, D1)


def test_pairwise_counts():
    items = pl.DataFrame({"p": ["a", "a", "a", "b"], "t": ["x", "x", "y", "y"]})
    scores = pairwise(items, "p", "t")
    assert (scores["true_positive_pairs"], scores["predicted_pairs"], scores["true_pairs"]) == (1, 3, 2)
