"""Each rule hits and misses at its boundary; thresholds by region and year; rules as data."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from wh_factory import World
from warehouse import rules

S1 = date(2024, 6, 30)


def hits(conn, rule: str | None = None) -> set[str]:
    query = "SELECT DISTINCT household_id FROM monitor.rule_hit" + (" WHERE rule = $r" if rule else "")
    return {h for (h,) in conn.sql(query, params={"r": rule} if rule else {}).fetchall()}


def test_education_age_boundaries_and_transfer(build):
    w = World()
    cases = {  # household: (birth date, status) at snapshot 2024-06-30
        "H_age6": (date(2018, 6, 30), "辍学"),       # turns 6 on the snapshot date: hit
        "H_age5": (date(2018, 7, 1), "辍学"),        # still 5: miss
        "H_age15": (date(2008, 7, 1), "休学"),       # 15: hit
        "H_age16": (date(2008, 6, 30), "休学"),      # turns 16: miss
        "H_transfer": (date(2012, 1, 1), "转出"),    # transfer is not a failure
        "H_enrolled": (date(2012, 1, 1), "在读"),
    }
    for i, (hh, (born, status)) in enumerate(cases.items()):
        w.add("education", S1, f"E{i}", f"P{i}", hh, status=status, birth_date=born)
        w.add("health", S1, f"M{i}", f"P{i}", hh, insured="已参保")
    _, conn = build(w)
    assert hits(conn, "education") == {"H_age6", "H_age15"}
    evidence = json.loads(conn.sql("SELECT evidence FROM monitor.rule_hit WHERE household_id = 'H_age6'").fetchall()[0][0])
    assert evidence["values"] == {"status": "辍学", "grade": None, "age": 6}
    assert evidence["thresholds"] == {"min_age": 6.0, "max_age": 15.0}


def test_birth_date_from_a_valid_id_number_wins(build):
    w = World()
    w.add("education", S1, "E1", "P1", "H1", status="辍学", birth_date=date(2001, 1, 1),
          id_number_status="valid", id_number_birth_date=date(2012, 1, 1))
    _, conn = build(w)
    assert hits(conn, "education") == {"H1"}


def test_insurance_not_enrolled_and_absent_from_health(build):
    w = World()
    w.add("health", S1, "M1", "P1", "H_insured", insured="已参保")
    w.add("health", S1, "M2", "P2", "H_not", insured="未参保")
    w.add("health", S1, "M3", "P3", "H_stopped", insured="中止")
    w.add("education", S1, "E4", "P4", "H_absent", status="在读", birth_date=date(2012, 1, 1))
    w.add("civil_affairs", S1, "C1", "P1", "H_insured", per_capita_income=9000.0)
    w.add("education", S1, "E5", "P5", "H_other_county", county="520102", status="在读")  # no health data there
    _, conn = build(w)
    assert hits(conn, "insurance") == {"H_not", "H_stopped", "H_absent"}
    evidence = json.loads(conn.sql("SELECT evidence FROM monitor.rule_hit WHERE household_id = 'H_absent'").fetchall()[0][0])
    assert evidence["values"]["known_in"] == ["education"]


def test_medical_burden_boundaries(build):
    w = World()
    # ratio: income 10000 x 2 members = 20000 a year; 50% = 10000
    for hh, oop in (("H_ratio_hit", 10000.01), ("H_ratio_miss", 10000.0)):
        w.add("health", S1, f"M{hh}", f"P{hh}a", hh, insured="已参保", out_of_pocket=oop)
        w.add("civil_affairs", S1, f"C{hh}a", f"P{hh}a", hh, per_capita_income=10000.0)
        w.add("civil_affairs", S1, f"C{hh}b", f"P{hh}b", hh, per_capita_income=10000.0)
    # absolute: no income known, 20000 is not over 20000
    for hh, oop in (("H_abs_hit", 20000.5), ("H_abs_miss", 20000.0)):
        w.add("health", S1, f"M{hh}", f"P{hh}", hh, insured="已参保", out_of_pocket=oop)
    # summed over members
    w.add("health", S1, "Msum1", "Psum1", "H_sum", insured="已参保", out_of_pocket=12000.0)
    w.add("health", S1, "Msum2", "Psum2", "H_sum", insured="已参保", out_of_pocket=9000.0)
    _, conn = build(w)
    assert hits(conn, "medical_burden") == {"H_ratio_hit", "H_abs_hit", "H_sum"}


def test_medical_burden_counts_the_members_at_the_snapshot(build):
    # income 4000 x members; 50 %: three members at S1 -> 6000, so 5000 is no burden then. By S2 two have
    # left (linkage lists only the head now): 5000 over 2000 is one. Today's size must not judge S1.
    s2 = date(2024, 12, 31)
    w = World()
    for snapshot in (S1, s2):
        w.add("health", snapshot, "M_head", "P_head", "H1", insured="已参保", out_of_pocket=5000.0)
        w.add("civil_affairs", snapshot, "C_head", "P_head", "H1", per_capita_income=4000.0)
    for person in ("P_son", "P_wife"):
        w.add("health", S1, f"M_{person}", person, "H1", insured="已参保", out_of_pocket=0.0)
    members = w.inputs().household_member.filter(pl.col("person_id") == "P_head")
    _, conn = build(w.inputs(household_member=members, household=w.inputs().household.with_columns(n_members=pl.lit(1, pl.Int32))))
    got = {d: json.loads(e)["values"]["n_members"] for d, e in conn.sql(
        "SELECT snapshot_date, evidence FROM monitor.rule_hit WHERE rule = 'medical_burden'").fetchall()}
    assert got == {s2: 1}


def test_a_guardian_known_by_id_and_the_id_from_another_version_only_for_the_same_guardian(build):
    s2 = date(2024, 12, 31)
    kept, former = "52260119800101123X", "522601198202021234"
    w = World()
    for snapshot in (S1, s2):
        for pupil, hh in (("P_a", "H_same"), ("P_b", "H_changed")):
            w.add("health", snapshot, f"M_{pupil}", pupil, hh, insured="已参保")
    guardian = dict(guardian_id_number_status="valid")
    # H_same: the guardian's number is blank in the second extract; same guardian (a homophone spelling)
    w.add("education", S1, "E_a", "P_a", "H_same", status="在读", guardian_name="王芳", guardian_name_pinyin="wang fang",
          guardian_id_number=kept, **guardian)
    w.add("education", s2, "E_a", "P_a", "H_same", status="在读", guardian_name="王方", guardian_name_pinyin="wang fang",
          guardian_id_number_status="blank")
    # H_changed: a new guardian without a number; the former one (insured at S1 only) is not the guardian now
    w.add("education", S1, "E_b", "P_b", "H_changed", status="在读", guardian_name="李明", guardian_name_pinyin="li ming",
          guardian_id_number=former, **guardian)
    w.add("education", s2, "E_b", "P_b", "H_changed", status="在读", guardian_name="赵丽", guardian_name_pinyin="zhao li",
          guardian_id_number_status="blank")
    w.add("health", S1, "M_former", "P_former", "H_elsewhere", insured="已参保", id_number=former, id_number_status="valid")
    # H_siblings: the guardian's number is blank on one pupil's record in every extract, but the sibling's
    # record names the same guardian with a number at S2; she is insured from S2 on only
    sibling_guardian = "522601198503031111"
    for pupil in ("P_c", "P_d"):
        w.add("health", S1, f"M_{pupil}", pupil, "H_siblings", insured="已参保")
        w.add("health", s2, f"M_{pupil}", pupil, "H_siblings", insured="已参保")
    for snapshot in (S1, s2):
        w.add("education", snapshot, "E_c", "P_c", "H_siblings", status="在读", guardian_name="周敏",
              guardian_name_pinyin="zhou min", guardian_id_number_status="blank")
    w.add("education", S1, "E_d", "P_d", "H_siblings", status="在读", guardian_name="陈刚", guardian_name_pinyin="chen gang",
          guardian_id_number_status="blank")
    w.add("education", s2, "E_d", "P_d", "H_siblings", status="在读", guardian_name="周敏", guardian_name_pinyin="zhou min",
          guardian_id_number=sibling_guardian, **guardian)
    w.add("health", s2, "M_guardian", "P_guardian", "H_siblings", insured="已参保", id_number=sibling_guardian,
          id_number_status="valid")
    _, conn = build(w)
    got = set(conn.sql("SELECT snapshot_date, household_id FROM monitor.rule_hit WHERE rule = 'insurance'").fetchall())
    assert got == {(S1, "H_same"), (s2, "H_same"), (S1, "H_siblings")}


def test_housing_grades_and_renovation(build):
    w = World()
    cases = {"H_C": ("C", "未改造"), "H_D": ("D", "改造中"), "H_D_unknown": ("D", None), "H_done": ("D", "已改造"),
             "H_B": ("B", "未改造")}
    for i, (hh, (grade, renovation)) in enumerate(cases.items()):
        w.add("housing", S1, f"F{i}", f"P{i}", hh, grade=grade, renovation=renovation)
    _, conn = build(w)
    assert hits(conn, "housing") == {"H_C", "H_D", "H_D_unknown"}


def test_water_any_of_four(build):
    w = World()
    ok = dict(quality_ok=True, quantity_ok=True, convenience_ok=True, reliability_ok=True)
    w.add("water", S1, "W0", "P0", "H_ok", **ok)
    w.add("water", S1, "W5", "P5", "H_unknown", **(ok | {"quality_ok": None}))
    for i, col in enumerate(ok, start=1):
        w.add("water", S1, f"W{i}", f"P{i}", f"H_{col}", **(ok | {col: False}))
    _, conn = build(w)
    assert hits(conn, "water") == {f"H_{c}" for c in ok}


def test_income_line_and_assistance_context(build):
    w = World()
    w.add("civil_affairs", S1, "C1", "P1", "H_below", per_capita_income=7999.99, assistance_type="低保", status="在保")
    w.add("civil_affairs", S1, "C2", "P2", "H_at", per_capita_income=8000.0, assistance_type="特困", status="停保")
    w.add("civil_affairs", S1, "C3", "P3", "H_unknown", per_capita_income=None, assistance_type="特困", status="在保")
    _, conn = build(w)
    assert hits(conn, "income") == {"H_below"}
    contexts = {h for (h,) in conn.sql("SELECT household_id FROM monitor.context_hit WHERE context = 'assistance'").fetchall()}
    assert contexts == {"H_below", "H_unknown"}
    lead = conn.sql("SELECT contexts FROM monitor.lead WHERE household_id = 'H_below'").fetchall()
    assert lead == [(["assistance"],)]


def _yaml_with(extra: str, tmp_path: Path, replace: tuple[str, str] | None = None) -> Path:
    text = rules.DEFAULT_RULES.read_text(encoding="utf-8")
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    path = tmp_path / "rules.yaml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def test_thresholds_by_region_and_year(build, tmp_path):
    extra = """
  - {rule: income, region: "52", year: default, line: 7000}
  - {rule: income, region: "522601", year: default, line: 7500}
  - {rule: income, region: "522601", year: 2025, line: 8700}
"""
    path = _yaml_with(extra, tmp_path)
    ruleset = rules.load_rules(path)
    assert ruleset.param_value("income", "line", "522601", 2024) == 7500
    assert ruleset.param_value("income", "line", "522601", 2025) == 8700
    assert ruleset.param_value("income", "line", "520102", 2025) == 7000
    assert ruleset.param_value("income", "line", "110101", 2025) == 8000
    w = World()
    s2025 = date(2025, 3, 31)
    for snapshot in (S1, s2025):
        w.add("civil_affairs", snapshot, "C1", "P1", "H_county", per_capita_income=8000.0)  # 522601
        w.add("civil_affairs", snapshot, "C2", "P2", "H_province", county="520102", per_capita_income=7200.0)
        w.add("civil_affairs", snapshot, "C3", "P3", "H_elsewhere", county="110101", per_capita_income=7900.0)
    _, conn = build(w, rules_path=path)
    got = set(conn.sql("SELECT snapshot_date, household_id FROM monitor.rule_hit WHERE rule = 'income'").fetchall())
    assert got == {(S1, "H_elsewhere"), (s2025, "H_elsewhere"), (s2025, "H_county")}


def test_a_new_rule_in_yaml_needs_no_code(build, tmp_path):
    new_rule = """
  - name: serious_illness
    title_zh: 大病
    description: A member has a serious illness and pays more than a threshold out of pocket.
    tests:
      - kind: record
        department: health
        where:
          all:
            - {column: serious_illness, is_true: true}
            - {column: out_of_pocket, ge: {param: min_cost}}
        evidence: [serious_illness, out_of_pocket]
"""
    path = _yaml_with("  - {rule: serious_illness, region: default, year: default, min_cost: 5000}\n", tmp_path,
                      replace=("\n# Shown beside the risk flags", new_rule + "\n# Shown beside the risk flags"))
    w = World()
    w.add("health", S1, "M1", "P1", "H_hit", insured="已参保", serious_illness=True, out_of_pocket=5000.0)
    w.add("health", S1, "M2", "P2", "H_low", insured="已参保", serious_illness=True, out_of_pocket=4999.0)
    w.add("health", S1, "M3", "P3", "H_not", insured="已参保", serious_illness=False, out_of_pocket=9000.0)
    _, conn = build(w, rules_path=path)
    assert hits(conn, "serious_illness") == {"H_hit"}
    assert conn.sql("SELECT rules FROM monitor.lead WHERE household_id = 'H_hit'").fetchall() == [(["serious_illness"],)]


def test_values_are_bound_never_sql(build, tmp_path):
    sneaky = "辍学'); DROP TABLE core.person; --"
    path = _yaml_with("", tmp_path, replace=("{column: status, in: [辍学, 休学]}", f'{{column: status, in: ["{sneaky}"]}}'))
    w = World()
    w.add("education", S1, "E1", "P1", "H1", status=sneaky, birth_date=date(2012, 1, 1))
    _, conn = build(w, rules_path=path)
    assert hits(conn, "education") == {"H1"}
    assert conn.sql("SELECT count(*) FROM core.person").fetchall()[0][0] == 1


@pytest.mark.parametrize("change, message", [
    (("{column: status, in: [辍学, 休学]}", "{column: \"status; DROP\", in: [辍学]}"), "not allowed"),
    (("{column: status, in: [辍学, 休学]}", "{column: name, in: [王芳]}"), "not allowed"),
    (("{rule: income, region: default, year: default, line: 8000}", "{rule: income, region: \"52\", year: default, line: 8000}"),
     "income.line"),
    (("kind: household", "kind: magic"), "unknown test kind"),
    (("{rule: income, region: default", "{rule: income, region: 'x1'"), "region"),
])
def test_invalid_rules_are_refused_with_a_clear_message(tmp_path, change, message):
    with pytest.raises(rules.RulesError, match=message):
        rules.load_rules(_yaml_with("", tmp_path, replace=change))
