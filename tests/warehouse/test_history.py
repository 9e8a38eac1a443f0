"""Facts with valid_from/valid_to over snapshots; entries, exits and exit candidates."""

from __future__ import annotations

from datetime import date

from wh_factory import World

JAN, FEB, AUG, SEP = date(2024, 1, 31), date(2024, 2, 29), date(2024, 8, 31), date(2024, 9, 30)


def versions(conn, table: str, record_id: str):
    return conn.sql(f"SELECT valid_from, valid_to, last_seen FROM core.{table} WHERE record_id = $r ORDER BY valid_from",
                    params={"r": record_id}).fetchall()


def test_unchanged_record_keeps_one_row_changed_gets_a_version_ended_gets_valid_to(build):
    w = World()
    for s in (JAN, FEB, AUG):
        w.add("housing", s, "same", "P1", "H1", grade="B", renovation="无需改造")
        w.add("housing", s, "changes", "P2", "H2", grade="D" if s == JAN else "B", renovation="未改造")
    w.add("housing", JAN, "ends", "P3", "H3", grade="A")
    w.add("housing", FEB, "ends", "P3", "H3", grade="A")
    w.add("housing", FEB, "returns", "P4", "H4", grade="A")
    w.add("housing", AUG, "returns", "P4", "H4", grade="A")
    w.add("housing", JAN, "returns", "P4", "H4", grade="A")
    w.add("housing", JAN, "gap", "P5", "H5", grade="A")
    w.add("housing", AUG, "gap", "P5", "H5", grade="A")
    _, conn = build(w)
    assert versions(conn, "housing_assessment", "same") == [(JAN, None, AUG)]
    assert versions(conn, "housing_assessment", "changes") == [(JAN, FEB, JAN), (FEB, None, AUG)]
    assert versions(conn, "housing_assessment", "ends") == [(JAN, AUG, FEB)]
    assert versions(conn, "housing_assessment", "returns") == [(JAN, None, AUG)]
    # absent in FEB: two versions, the first ended by the FEB extract
    assert versions(conn, "housing_assessment", "gap") == [(JAN, FEB, JAN), (AUG, None, AUG)]
    # the identity rows follow the versions
    assert conn.sql("SELECT count(*) FROM restricted.housing_assessment_identity WHERE record_id = 'gap'").fetchall() == [(2,)]


def test_history_is_per_county_and_facts_hold_until_the_next_extract(build):
    w = World()
    # county A extracts in JAN and FEB, county B only in JAN: B's records stay valid
    w.add("health", JAN, "A1", "P1", "H1", county="522601", insured="已参保")
    w.add("health", FEB, "A2", "P2", "H2", county="522601", insured="已参保")
    w.add("health", JAN, "B1", "P3", "H3", county="522602", insured="未参保")
    _, conn = build(w)
    assert versions(conn, "health_coverage", "A1") == [(JAN, FEB, JAN)]
    assert versions(conn, "health_coverage", "B1") == [(JAN, None, JAN)]
    at = {s: h for s, h in conn.sql("SELECT snapshot_date, list(household_id ORDER BY household_id) FROM monitor.rule_hit "
                                   "WHERE rule = 'insurance' GROUP BY 1").fetchall()}
    assert at == {JAN: ["H3"], FEB: ["H3"]}  # as of FEB, B's JAN extract still holds


def test_relinking_starts_a_new_version(build):
    w = World()
    w.add("water", JAN, "W1", "P1", "H1", quality_ok=True)
    w.add("water", FEB, "W1", "P1", "H9", quality_ok=True)
    _, conn = build(w)
    rows = conn.sql("SELECT household_id, valid_from, valid_to FROM core.water_survey ORDER BY valid_from").fetchall()
    assert rows == [("H1", JAN, FEB), ("H9", FEB, None)]


def events(conn):
    return sorted(conn.sql("SELECT snapshot_date, household_id, event, is_reentry FROM monitor.lead_event").fetchall())


def test_two_snapshots_entries_exits_and_candidates(build):
    w = World()
    # H_new: clear in JAN, at risk in AUG -> entry in AUG
    w.add("water", JAN, "W1", "P1", "H_new", quality_ok=True)
    w.add("water", AUG, "W1", "P1", "H_new", quality_ok=False)
    # H_left: at risk JAN, clear AUG (7 months later) -> exit + exit candidate in AUG
    w.add("water", JAN, "W2", "P2", "H_left", quality_ok=False)
    w.add("water", AUG, "W2", "P2", "H_left", quality_ok=True)
    # H_stays: at risk in both -> one entry only
    w.add("water", JAN, "W3", "P3", "H_stays", quality_ok=False)
    w.add("water", AUG, "W3", "P3", "H_stays", quality_ok=False)
    _, conn = build(w)
    assert events(conn) == sorted([
        (AUG, "H_new", "entry", False),
        (JAN, "H_left", "entry", False), (AUG, "H_left", "exit", False), (AUG, "H_left", "exit_candidate", False),
        (JAN, "H_stays", "entry", False),
    ])
    lead = conn.sql("SELECT snapshot_date, household_id, is_entry, listed_since FROM monitor.lead ORDER BY 1, 2").fetchall()
    assert lead == [(JAN, "H_left", True, JAN), (JAN, "H_stays", True, JAN),
                    (AUG, "H_new", True, AUG), (AUG, "H_stays", False, JAN)]


def test_three_snapshots_candidate_needs_six_clear_months_and_relapse_reenters(build):
    w = World()
    snaps = (JAN, FEB, AUG)
    # H_short: at risk JAN, clear FEB (exit, not yet a candidate), clear AUG (6+ months since JAN: candidate)
    for s, bad in zip(snaps, (True, False, False)):
        w.add("housing", s, "F1", "P1", "H_short", grade="D" if bad else "A")
    # H_relapse: at risk JAN, clear FEB, at risk again AUG -> re-entry
    for s, bad in zip(snaps, (True, False, True)):
        w.add("housing", s, "F2", "P2", "H_relapse", grade="D" if bad else "A")
    # H_recent: clear JAN, at risk FEB, clear AUG: only 6 months after FEB... FEB 29 + 6 months = AUG 29 <= AUG 31
    for s, bad in zip(snaps, (False, True, False)):
        w.add("housing", s, "F3", "P3", "H_recent", grade="D" if bad else "A")
    _, conn = build(w)
    assert events(conn) == sorted([
        (JAN, "H_short", "entry", False), (FEB, "H_short", "exit", False), (AUG, "H_short", "exit_candidate", False),
        (JAN, "H_relapse", "entry", False), (FEB, "H_relapse", "exit", False), (AUG, "H_relapse", "entry", True),
        (FEB, "H_recent", "entry", False), (AUG, "H_recent", "exit", False), (AUG, "H_recent", "exit_candidate", False),
    ])
    status = dict(conn.sql("SELECT household_id || '@' || snapshot_date, status FROM monitor.household_status").fetchall())
    assert status["H_short@2024-02-29"] == "cleared"
    assert status["H_short@2024-08-31"] == "exit_candidate"
    assert status["H_relapse@2024-08-31"] == "at_risk"
    # who was at risk on a date: a simple query
    at_risk_feb = conn.sql("SELECT household_id FROM monitor.lead WHERE snapshot_date = DATE '2024-02-29'").fetchall()
    assert at_risk_feb == [("H_recent",)]


def test_exit_months_come_from_the_yaml(build, tmp_path):
    from warehouse import rules
    text = rules.DEFAULT_RULES.read_text(encoding="utf-8").replace(
        "clear_months: 6, on_list_months: 6", "clear_months: 9, on_list_months: 6")
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    w = World()
    w.add("water", JAN, "W2", "P2", "H_left", quality_ok=False)
    w.add("water", AUG, "W2", "P2", "H_left", quality_ok=True)
    _, conn = build(w, rules_path=path)
    assert [e[2] for e in events(conn)] == ["entry", "exit"]
