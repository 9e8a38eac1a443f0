import datetime as dt

import polars as pl
import pytest

from entity_resolution.household.quality import id_stability

D1, D2 = dt.date(2026, 1, 5), dt.date(2026, 7, 5)


def mentions(rows):
    """(department, record_id, snapshot_date, person_id, household_id) -> a mention frame (role: subject)."""
    return pl.DataFrame(rows, schema=["department", "record_id", "snapshot_date", "person_id", "household_id"],
                        orient="row").with_columns(role=pl.lit("subject"))


def truth(rows):
    """(department, record_id, snapshot_date, person_key, household_key)."""
    return pl.DataFrame(rows, schema=["department", "record_id", "snapshot_date", "person_key", "household_key"],
                        orient="row").with_columns(role=pl.lit("subject"))


def at_both_dates(rows):
    """(department, record_id, person, household) rows repeated at D1 and D2, as a run over both sees them."""
    return [(dep, rec, day, a, b) for day in (D1, D2) for dep, rec, a, b in rows]


# One household (A, B) at both dates. A's water survey was never linked to A and sits in a
# household of its own, in both runs alike; B's health record keeps its household; in run 2
# C (another household) is split off a wrong merge.
TRUTH = truth(at_both_dates([
    ("health", "H1", "A", "X"), ("water", "W1", "A", "X"), ("health", "H2", "B", "X"),
    ("health", "H3", "C", "Y"), ("housing", "F3", "C", "Y"),
]))


def test_a_member_whose_records_sit_in_two_households_the_same_way_in_both_runs_kept_its_household():
    first = mentions([
        ("health", "H1", D1, "p1", "h1"), ("water", "W1", D1, "p9", "h9"), ("health", "H2", D1, "p2", "h1"),
        ("health", "H3", D1, "p3", "h3"), ("housing", "F3", D1, "p3", "h3"),
    ])
    second = mentions(at_both_dates([
        ("health", "H1", "p1", "h1"), ("water", "W1", "p9", "h9"), ("health", "H2", "p2", "h1"),
        ("health", "H3", "p3", "h3"), ("housing", "F3", "p3", "h3"),
    ]))
    stability = id_stability(first, second, TRUTH)
    assert stability["household"] == 1.0
    assert stability["household_entity"] == 1.0
    # counting every pair of households, A's (h1, h9) and (h9, h1) were lost
    assert stability["household_every_pair"] == pytest.approx(4 / 6, abs=1e-5)


def test_a_member_whose_household_id_changed_is_lost():
    first = mentions([
        ("health", "H1", D1, "p1", "h1"), ("water", "W1", D1, "p1", "h1"), ("health", "H2", D1, "p2", "h1"),
        ("health", "H3", D1, "p3", "h3"), ("housing", "F3", D1, "p3", "h3"),
    ])
    second = mentions(at_both_dates([
        ("health", "H1", "p1", "h1"), ("water", "W1", "p1", "h1"), ("health", "H2", "p2", "h7"),
        ("health", "H3", "p3", "h3"), ("housing", "F3", "p4", "h3"),
    ]))
    stability = id_stability(first, second, TRUTH)
    assert stability["household"] == pytest.approx(2 / 3, abs=1e-5)
    # per household: X's main ID (h1, two records of three) and Y's (h3) stayed
    assert stability["household_entity"] == 1.0
    assert stability["person"] == 4 / 5


def test_a_household_whose_main_id_changed_is_lost_per_household():
    first = mentions([
        ("health", "H1", D1, "p1", "h1"), ("water", "W1", D1, "p1", "h1"), ("health", "H2", D1, "p2", "h1"),
        ("health", "H3", D1, "p3", "h3"), ("housing", "F3", D1, "p3", "h3"),
    ])
    second = mentions(at_both_dates([
        ("health", "H1", "p1", "h5"), ("water", "W1", "p1", "h5"), ("health", "H2", "p2", "h1"),
        ("health", "H3", "p3", "h3"), ("housing", "F3", "p3", "h3"),
    ]))
    stability = id_stability(first, second, TRUTH)
    assert stability["household_entity"] == 0.5  # X now mostly h5; Y kept h3
    assert stability["household"] == pytest.approx(2 / 3, abs=1e-5)  # A lost, B and C kept
