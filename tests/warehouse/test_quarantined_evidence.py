"""Medical burden counts a member's quarantined health row as provisional evidence (rules.yaml
``include_quarantined``), only when its ID number is valid and names a linked person without an
accepted health row; the hit says so (``from_quarantine``, ``evidence.quarantined``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from schemas.normalise.id_number import check_char
from wh_factory import COUNTY, World
from warehouse import rules

S1, S2 = date(2024, 6, 30), date(2024, 12, 31)
HEALTH_FILE = {S1: f"hea{COUNTY}{S1:%Y%m%d}", S2: f"hea{COUNTY}{S2:%Y%m%d}"}


def valid_id(serial: int) -> str:
    first17 = f"{COUNTY}19800101{serial:03d}"
    return first17 + check_char(first17)


def bad_check_digit(serial: int) -> str:
    good = valid_id(serial)
    return good[:17] + ("0" if good[17] != "0" else "1")


class Quarantine:
    """Quarantined health rows as ingestion writes them: the row as read, headers as found in the file."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def health_row(self, snapshot: date, record_id: str | None, id_number: str, out_of_pocket: str,
                   reason_field: str = "name", insured: str = "已参保") -> int:
        row_number = 900 + len(self.rows)
        raw = {"人员编号": record_id, "年度": "2024", "姓名": None, "身份证号": id_number, "参保状态": insured,
               "个人自付费用(元)": out_of_pocket}
        self.rows.append({"department": "health", "file_id": HEALTH_FILE[snapshot],
                          "file_name": f"{COUNTY}_{snapshot:%Y%m%d}.csv",
                          "row_number": row_number, "field": reason_field, "reason": "missing required value",
                          "raw_row": json.dumps(raw, ensure_ascii=False)})
        return row_number

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema={"department": pl.String, "file_id": pl.String, "file_name": pl.String,
                                               "row_number": pl.Int32, "field": pl.String, "reason": pl.String,
                                               "raw_row": pl.String})


def household(w: World, hh: str, serial: int, head_cost: float | None = 100.0, snapshot: date = S1) -> str:
    """A head with an accepted health row and a second member, known to civil affairs, whose ID is returned."""
    member_id = valid_id(serial)
    w.person(f"{hh}_head", hh, id_number=valid_id(serial + 500))
    w.person(f"{hh}_member", hh, name="李秀英", id_number=member_id)
    if head_cost is not None:
        w.add("health", snapshot, f"M{hh}", f"{hh}_head", hh, insured="已参保", out_of_pocket=head_cost)
    w.add("civil_affairs", snapshot, f"C{hh}", f"{hh}_member", hh, per_capita_income=30000.0)
    return member_id


def burden_hits(conn) -> dict[tuple[date, str], tuple[bool, dict]]:
    rows = conn.sql("SELECT snapshot_date, household_id, from_quarantine, evidence FROM monitor.rule_hit "
                    "WHERE rule = 'medical_burden'").fetchall()
    return {(d, h): (q, json.loads(e)) for d, h, q, e in rows}


def test_a_burden_only_visible_through_a_quarantined_row_is_flagged_and_says_so(build):
    w, q = World(), Quarantine()
    only_quarantined = household(w, "H_blank_name", 1)
    row = q.health_row(S1, "M_blank", only_quarantined, "25,000.50元")  # headers and money as the clerk typed them
    both = household(w, "H_together", 2, head_cost=8000.0)
    q.health_row(S1, None, both, "13000")                                # blank record ID: quarantined too
    already = household(w, "H_accepted_fires", 3, head_cost=21000.0)
    q.health_row(S1, "M_extra", already, "500")
    _, conn = build(w.inputs(quarantine=q.frame()))

    hits = burden_hits(conn)
    assert set(hits) == {(S1, "H_blank_name"), (S1, "H_together"), (S1, "H_accepted_fires")}
    provisional, evidence = hits[(S1, "H_blank_name")]
    assert provisional is True
    assert evidence["values"]["out_of_pocket"] == 25100.5
    # the row as the department can find it: file name and row number, never the ID number
    assert evidence["quarantined"] == [{"department": "health", "file_name": f"{COUNTY}_{S1:%Y%m%d}.csv",
                                        "row_number": row, "measure": "out_of_pocket", "value": 25000.5}]
    assert hits[(S1, "H_together")][0] is True and hits[(S1, "H_together")][1]["values"]["out_of_pocket"] == 21000.0
    # fires on accepted rows alone: not provisional, though the quarantined cost is still shown
    provisional, evidence = hits[(S1, "H_accepted_fires")]
    assert provisional is False and [r["value"] for r in evidence["quarantined"]] == [500.0]

    # analysts see the flag, and nothing identifying from the quarantined row
    view = conn.sql("SELECT from_quarantine, evidence::VARCHAR FROM analyst.rule_hit WHERE rule = 'medical_burden'").fetchall()
    assert sorted(f for f, _ in view) == [False, True, True]
    assert not any(i in e for _, e in view for i in (only_quarantined, both, already, "M_blank", "M_extra"))
    other = conn.sql("SELECT count(*) FROM monitor.rule_hit WHERE rule <> 'medical_burden' AND from_quarantine").fetchall()
    assert other == [(0,)]


def test_an_invalid_or_unknown_id_number_or_an_accepted_row_attributes_nothing(build):
    w, q = World(), Quarantine()
    household(w, "H_bad_check_digit", 1)
    q.health_row(S1, "M1", bad_check_digit(1), "25000")
    w.person("P_kept_bad_id", "H_linked_bad_id", id_number=bad_check_digit(6))  # even if linkage kept that ID
    q.health_row(S1, "M6", bad_check_digit(6), "25000")
    household(w, "H_unknown_id", 2)
    q.health_row(S1, "M2", valid_id(77), "25000")        # valid, but no linked person has it
    household(w, "H_malformed", 3)
    q.health_row(S1, "M3", "5226011980", "25000")
    member = household(w, "H_has_accepted_row", 4)        # the member's own accepted row is authoritative
    w.add("health", S1, "M4", "H_has_accepted_row_member", "H_has_accepted_row", insured="已参保", out_of_pocket=50.0)
    q.health_row(S1, "M4b", member, "25000")
    household(w, "H_unreadable_cost", 5)
    q.health_row(S1, "M5", valid_id(5), "两万五")
    _, conn = build(w.inputs(quarantine=q.frame()))
    assert burden_hits(conn) == {}
    assert conn.sql("SELECT count(*) FROM monitor.rule_hit WHERE from_quarantine").fetchall() == [(0,)]


def test_a_quarantined_row_stands_only_for_the_snapshots_its_file_is_the_latest(build):
    w, q = World(), Quarantine()
    member = household(w, "H1", 1)
    q.health_row(S1, "M_q", member, "25000")
    household(w, "H1", 1, snapshot=S2)                    # next extract: the member's row is gone
    member2 = household(w, "H2", 2)
    q.health_row(S1, "M_q2", member2, "25000")
    household(w, "H2", 2, snapshot=S2)
    w.add("health", S2, "M_q2", "H2_member", "H2", insured="已参保", out_of_pocket=30.0)  # corrected and accepted
    _, conn = build(w.inputs(quarantine=q.frame()))
    assert set(burden_hits(conn)) == {(S1, "H1"), (S1, "H2")}


def test_a_person_whose_only_current_record_was_quarantined_counts_where_their_records_were_linked(build):
    w, q = World(), Quarantine()
    member = household(w, "H1", 1)
    w.add("health", S1, "M_member", "H1_member", "H1", insured="已参保", out_of_pocket=10.0)
    household(w, "H1", 1, snapshot=S2)
    q.health_row(S2, "M_member", member, "25000")  # corrected next time, quarantined now
    # linkage lists the member in no household now: no accepted record of theirs is current
    members = w.inputs().household_member.filter(pl.col("person_id") != "H1_member")
    _, conn = build(w.inputs(quarantine=q.frame(), household_member=members))
    assert {k: v[0] for k, v in burden_hits(conn).items()} == {(S2, "H1"): True}


def test_a_quarantined_row_that_says_not_insured_is_an_insurance_lead(build):
    w, q = World(), Quarantine()
    row = q.health_row(S1, "M1", household(w, "H_not_insured", 1), "0", insured="未参保")
    q.health_row(S1, "M2", household(w, "H_insured", 2), "0")                 # present and insured: no lead
    q.health_row(S1, "M3", bad_check_digit(3), "0", insured="中止")
    household(w, "H_bad_id", 3)                                              # its member is absent, not lapsed
    _, conn = build(w.inputs(quarantine=q.frame()))
    got = {h: (t, f, json.loads(e)) for h, t, f, e in conn.sql(
        "SELECT household_id, test, from_quarantine, evidence FROM monitor.rule_hit WHERE rule = 'insurance'").fetchall()}
    assert set(got) == {"H_not_insured", "H_bad_id"}
    test, provisional, evidence = got["H_not_insured"]
    assert (test, provisional) == ("0:record", True)
    assert evidence["values"] == {"insured": "未参保", "scheme": None, "year": 2024}
    assert evidence["quarantined"] == [{"department": "health", "file_name": f"{COUNTY}_{S1:%Y%m%d}.csv",
                                        "row_number": row}]
    assert got["H_bad_id"][:2] == ("1:absent", False)
    # the hit is about the member whose row it was, as analysts see them
    about_member = conn.sql("SELECT count(*) FROM analyst.rule_hit r JOIN analyst.household_member m "
                            "USING (household_key, person_key) WHERE r.rule = 'insurance' AND r.from_quarantine").fetchall()
    assert about_member == [(1,)]


def _yaml(tmp_path: Path, old: str, new: str) -> Path:
    text = rules.DEFAULT_RULES.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "rules.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_without_include_quarantined_the_row_is_not_counted(build, tmp_path):
    path = _yaml(tmp_path, "column: out_of_pocket, include_quarantined: true", "column: out_of_pocket")
    w, q = World(), Quarantine()
    q.health_row(S1, "M1", household(w, "H1", 1), "25000")
    _, conn = build(w.inputs(quarantine=q.frame()), rules_path=path)
    assert burden_hits(conn) == {}


@pytest.mark.parametrize("new, message", [
    ("column: out_of_pocket, include_quarantined: yes_please", "include_quarantined: true or false"),
    ("column: out_of_pocket, include_quarantine: true", "unknown keys"),
    ("column: has_chronic_condition, include_quarantined: true", "include_quarantined needs"),
])
def test_include_quarantined_is_checked(tmp_path, new, message):
    path = _yaml(tmp_path, "column: out_of_pocket, include_quarantined: true", new)
    with pytest.raises(rules.RulesError, match=message):
        rules.load_rules(path)


def test_include_quarantined_needs_a_department_with_id_numbers(tmp_path):
    path = _yaml(tmp_path, "per_capita_income: {department: civil_affairs, agg: max, column: per_capita_income}",
                 "per_capita_income: {department: water, agg: count, column: supply, include_quarantined: true}")
    with pytest.raises(rules.RulesError, match="include_quarantined needs"):
        rules.load_rules(path)
