"""Risk rules as data (``rules.yaml``), evaluated in DuckDB SQL.

SQL is generated from the YAML safely: column names must be columns of the
department's core fact table (the schema whitelist) or a known computed column,
every other name (rules, params, measures) must be a plain identifier, and
every value from the file is a bound parameter. Nothing from the data ever
becomes SQL text. See the header of ``rules.yaml`` for the rule language.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from schemas.departments import DEPARTMENTS
from warehouse import quarantined
from warehouse.ddl import FACT_TABLES, Kind, fact_layout, fact_table, identity_table, quote

DEFAULT_RULES = Path(__file__).with_name("rules.yaml")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
COMPARISONS = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
OPS = set(COMPARISONS) | {"in", "not_in", "between", "is_null", "is_not_null", "is_true", "is_false"}
AGGREGATES = {"sum", "max", "min", "avg", "count"}
#: Builtin household measures: SQL over ``hs`` (``_household_size``, see ``household_sizes``) and ``h`` (core.household).
BUILTIN_MEASURES = {"n_members": "coalesce(hs.n_members, h.n_members)"}
#: Columns computed for rule evaluation beside the fact columns.
COMPUTED = {"age": "date_sub('year', f.birth_date, s.snapshot_date)"}
EXIT_RULE = "exit"


class RulesError(ValueError):
    """rules.yaml is not valid; the message says where."""


@dataclass(frozen=True)
class Threshold:
    rule: str
    region: str  # 'default' or a county-code prefix
    year_from: int | None
    name: str
    value: float


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # risk | context
    title_zh: str
    description: str
    tests: tuple[dict, ...]
    definition: dict


@dataclass(frozen=True)
class Ruleset:
    version: str
    sha256: str
    rules: tuple[Rule, ...]
    contexts: tuple[Rule, ...]
    exit_params: tuple[str, ...]
    thresholds: tuple[Threshold, ...] = field(default=())

    def param_value(self, rule: str, name: str, county: str | None = None, year: int | None = None) -> float | None:
        """Resolve a threshold like the SQL does (for reports and tests)."""
        best, best_rank = None, None
        for t in self.thresholds:
            if t.rule != rule or t.name != name:
                continue
            if t.region != "default" and not (county or "").startswith(t.region):
                continue
            if t.year_from is not None and (year is None or t.year_from > year):
                continue
            rank = (0 if t.region == "default" else len(t.region), t.year_from or 0)
            if best_rank is None or rank > best_rank:
                best, best_rank = t.value, rank
        return best


# ---------------------------------------------------------------------------
# loading and validation

def fact_columns(department: str) -> set[str]:
    cols = set(fact_table(department).column_names())
    return cols | ({"age"} if "birth_date" in cols else set())


def load_rules(path: Path | str | None = None) -> Ruleset:
    path = Path(path) if path else DEFAULT_RULES
    text = path.read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or "version" not in doc:
        raise RulesError(f"{path}: expected a mapping with a 'version'")
    rules = tuple(_rule(r, "risk", path) for r in doc.get("rules") or [])
    contexts = tuple(_rule(r, "context", path) for r in doc.get("context") or [])
    names = [r.name for r in rules + contexts]
    if len(set(names)) != len(names) or EXIT_RULE in names:
        raise RulesError(f"{path}: rule names must be unique and not '{EXIT_RULE}': {names}")
    exit_params = tuple((doc.get("exit") or {}).get("params") or ())
    thresholds = tuple(_thresholds(doc.get("thresholds") or [], set(names) | {EXIT_RULE}, path))
    ruleset = Ruleset(str(doc["version"]), hashlib.sha256(text.encode()).hexdigest(), rules, contexts,
                      exit_params, thresholds)
    needed = {(EXIT_RULE, p) for p in exit_params}
    for rule in rules + contexts:
        for test in rule.tests:
            needed |= {(rule.name, p) for p in _params_of(test.get("where"))}
    defaults = {(t.rule, t.name) for t in thresholds if t.region == "default" and t.year_from is None}
    missing = sorted(needed - defaults)
    if missing:
        raise RulesError(f"{path}: these params need a 'region: default, year: default' threshold: "
                         + ", ".join(f"{r}.{p}" for r, p in missing))
    return ruleset


def _ident(value: Any, what: str, path: Path) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise RulesError(f"{path}: {what} must be a lower-case identifier, got {value!r}")
    return value


def _department(value: Any, path: Path) -> str:
    if value not in DEPARTMENTS:
        raise RulesError(f"{path}: unknown department {value!r}; one of {list(DEPARTMENTS)}")
    return value


def _rule(raw: dict, kind: str, path: Path) -> Rule:
    if not isinstance(raw, dict):
        raise RulesError(f"{path}: each rule must be a mapping, got {raw!r}")
    name = _ident(raw.get("name"), "rule name", path)
    tests = raw.get("tests")
    if not isinstance(tests, list) or not tests:
        raise RulesError(f"{path}: rule {name}: needs a non-empty list of tests")
    for test in tests:
        _check_test(name, test, path, context=kind == "context")
    return Rule(name, kind, str(raw.get("title_zh", "")), str(raw.get("description", "")), tuple(tests), raw)


def _check_test(rule: str, test: dict, path: Path, context: bool) -> None:
    where = f"{path}: rule {rule}"
    kind = test.get("kind") if isinstance(test, dict) else None
    if kind == "record":
        department = _department(test.get("department"), path)
        allowed = fact_columns(department)
        _check_condition(test.get("where"), allowed, where, path)
        for col in test.get("evidence") or []:
            if col not in allowed:
                raise RulesError(f"{where}: evidence column {col!r} is not a column of {FACT_TABLES[department]}")
        _check_include_quarantined(test, department, _record_columns(test), where)
    elif kind == "absent" and not context:
        _department(test.get("department"), path)
        known = test.get("known_in")
        if not isinstance(known, list) or not known:
            raise RulesError(f"{where}: an absent test needs known_in: [departments]")
        for d in known:
            _department(d, path)
        for named in test.get("known_by_id") or []:
            d = _department((named or {}).get("department"), path)
            if not isinstance(named, dict) or named.get("column") not in _id_columns(d):
                raise RulesError(f"{where}: known_by_id entries are {{department, column}} with an ID-number column "
                                 f"of that department, one of {_id_columns(d)}; got {named!r}")
    elif kind == "household" and not context:
        measures = test.get("measures")
        if not isinstance(measures, dict) or not measures:
            raise RulesError(f"{where}: a household test needs measures")
        for name, m in measures.items():
            _ident(name, "measure name", path)
            if not isinstance(m, dict):
                raise RulesError(f"{where}: measure {name} must be a mapping")
            if "builtin" in m:
                if m["builtin"] not in BUILTIN_MEASURES:
                    raise RulesError(f"{where}: unknown builtin {m['builtin']!r}; one of {sorted(BUILTIN_MEASURES)}")
                continue
            department = _department(m.get("department"), path)
            if m.get("agg") not in AGGREGATES:
                raise RulesError(f"{where}: measure {name}: agg must be one of {sorted(AGGREGATES)}")
            if m.get("column") not in fact_columns(department):
                raise RulesError(f"{where}: measure {name}: {m.get('column')!r} is not a column of {FACT_TABLES[department]}")
            unknown = set(m) - {"department", "agg", "column", "include_quarantined"}
            if unknown:
                raise RulesError(f"{where}: measure {name}: unknown keys {sorted(unknown)}")
            _check_include_quarantined(m, department, [m["column"]], f"{where}: measure {name}")
        _check_condition(test.get("where"), set(measures), where, path)
    else:
        raise RulesError(f"{where}: unknown test kind {kind!r} (record, absent, household; contexts: record)")


def _check_include_quarantined(spec: dict, department: str, columns: list[str], where: str) -> None:
    if spec.get("include_quarantined", False) not in (True, False):
        raise RulesError(f"{where}: write include_quarantined: true or false")
    if not spec.get("include_quarantined"):
        return
    eligible = quarantined.eligible_columns(department)
    if quarantined.subject_id_column(department) is None or not set(columns) <= eligible:
        raise RulesError(f"{where}: include_quarantined needs a department whose rows carry an ID number, and "
                         f"columns a quarantined row can supply, of {sorted(eligible)}; got {department}: "
                         f"{sorted(set(columns) - eligible) or 'no ID number'}")


def _record_columns(test: dict) -> list[str]:
    """The fact columns a record test reads: those of its condition, then its evidence."""
    def walk(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node["column"]] if isinstance(node.get("column"), str) else []
            return own + [c for k, v in node.items() if k != "column" for c in walk(v)]
        return [c for v in node for c in walk(v)] if isinstance(node, list) else []
    return list(dict.fromkeys(walk(test.get("where")) + list(test.get("evidence") or [])))


def _check_condition(node: Any, allowed: set[str], where: str, path: Path) -> None:
    if not isinstance(node, dict) or not node:
        raise RulesError(f"{where}: a condition must be a mapping, got {node!r}")
    if "all" in node or "any" in node:
        items = node.get("all", node.get("any"))
        if len(node) != 1 or not isinstance(items, list) or not items:
            raise RulesError(f"{where}: all/any take a non-empty list and nothing beside it")
        for item in items:
            _check_condition(item, allowed, where, path)
        return
    if "not" in node:
        if len(node) != 1:
            raise RulesError(f"{where}: 'not' stands alone")
        _check_condition(node["not"], allowed, where, path)
        return
    column = node.get("column")
    if column not in allowed:
        raise RulesError(f"{where}: column {column!r} is not allowed here; allowed: {sorted(allowed)}")
    ops = [k for k in node if k != "column"]
    if len(ops) != 1 or ops[0] not in OPS:
        raise RulesError(f"{where}: a leaf needs exactly one operator of {sorted(OPS)}, got {ops}")
    _check_operand(node[ops[0]], ops[0], allowed, where, path)


def _check_operand(value: Any, op: str, allowed: set[str], where: str, path: Path) -> None:
    if op in {"in", "not_in"}:
        if not isinstance(value, list) or not value:
            raise RulesError(f"{where}: {op} takes a non-empty list")
        return
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise RulesError(f"{where}: between takes [low, high]")
        for v in value:
            _check_operand(v, "eq", allowed, where, path)
        return
    if op in {"is_null", "is_not_null", "is_true", "is_false"}:
        if value is not True:
            raise RulesError(f"{where}: write {op}: true")
        return
    if isinstance(value, dict):
        if set(value) == {"param"}:
            _ident(value["param"], "param name", path)
        elif set(value) == {"column"}:
            if value["column"] not in allowed:
                raise RulesError(f"{where}: column {value['column']!r} is not allowed here")
        elif set(value) == {"product"} and isinstance(value["product"], list) and value["product"]:
            for v in value["product"]:
                _check_operand(v, "eq", allowed, where, path)
        else:
            raise RulesError(f"{where}: operand {value!r}: use a literal, {{param}}, {{column}} or {{product: [...]}}")
    elif not isinstance(value, (str, int, float, bool)):
        raise RulesError(f"{where}: operand {value!r} is not a literal")


def _params_of(node: Any) -> set[str]:
    if isinstance(node, dict):
        if set(node) == {"param"}:
            return {node["param"]}
        return set().union(*(_params_of(v) for v in node.values())) if node else set()
    if isinstance(node, list):
        return set().union(*(_params_of(v) for v in node)) if node else set()
    return set()


def _thresholds(rows: list, rule_names: set[str], path: Path) -> list[Threshold]:
    out = []
    for row in rows:
        if not isinstance(row, dict):
            raise RulesError(f"{path}: threshold rows are mappings, got {row!r}")
        rule = row.get("rule")
        if rule not in rule_names:
            raise RulesError(f"{path}: threshold for unknown rule {rule!r}")
        region = str(row.get("region", "default"))
        if region != "default" and not re.fullmatch(r"\d{2}|\d{4}|\d{6}", region):
            raise RulesError(f"{path}: region must be 'default' or a 2/4/6-digit county code prefix, got {region!r}")
        year = row.get("year", "default")
        if year != "default" and not isinstance(year, int):
            raise RulesError(f"{path}: year must be 'default' or an integer, got {year!r}")
        for name, value in row.items():
            if name in {"rule", "region", "year"}:
                continue
            _ident(name, "threshold name", path)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise RulesError(f"{path}: threshold {rule}.{name} must be a number, got {value!r}")
            out.append(Threshold(rule, region, None if year == "default" else year, name, float(value)))
    return out


# ---------------------------------------------------------------------------
# SQL generation

class _Sql:
    """Collects bound parameters and threshold joins while SQL text is generated."""

    def __init__(self, rule: str, county_sql: str, snapshot_sql: str) -> None:
        self.params: dict[str, Any] = {"rule": rule}
        self.joins: list[str] = []
        self.thresholds: dict[str, str] = {}
        self._county, self._snapshot = county_sql, snapshot_sql

    def bind(self, value: Any) -> str:
        name = f"v{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def threshold(self, name: str) -> str:
        if name not in self.thresholds:
            alias = f"t{len(self.thresholds)}"
            self.thresholds[name] = alias
            self.joins.append(
                f"LEFT JOIN _rule_param {alias} ON {alias}.rule = $rule AND {alias}.param = {self.bind(name)} "
                f"AND {alias}.county = coalesce({self._county}, '') AND {alias}.snapshot_date = {self._snapshot}")
        return f"{self.thresholds[name]}.value"

    def thresholds_struct(self) -> str:
        if not self.thresholds:
            return "NULL"
        return "struct_pack(" + ", ".join(f"{quote(n)} := {a}.value" for n, a in self.thresholds.items()) + ")"


def compile_condition(node: dict, column_sql, sql: _Sql) -> str:
    if "all" in node:
        return "(" + " AND ".join(compile_condition(n, column_sql, sql) for n in node["all"]) + ")"
    if "any" in node:
        return "(" + " OR ".join(compile_condition(n, column_sql, sql) for n in node["any"]) + ")"
    if "not" in node:
        return "(NOT " + compile_condition(node["not"], column_sql, sql) + ")"
    col = column_sql(node["column"])
    (op,) = [k for k in node if k != "column"]
    value = node[op]
    if op in COMPARISONS:
        return f"({col} {COMPARISONS[op]} {_operand(value, column_sql, sql)})"
    if op == "in":
        return f"({col} IN (" + ", ".join(sql.bind(v) for v in value) + "))"
    if op == "not_in":
        return f"({col} IS NULL OR {col} NOT IN (" + ", ".join(sql.bind(v) for v in value) + "))"
    if op == "between":
        low, high = (_operand(v, column_sql, sql) for v in value)
        return f"({col} BETWEEN {low} AND {high})"
    return {"is_null": f"({col} IS NULL)", "is_not_null": f"({col} IS NOT NULL)",
            "is_true": f"({col} IS TRUE)", "is_false": f"({col} IS FALSE)"}[op]


def _operand(value: Any, column_sql, sql: _Sql) -> str:
    if isinstance(value, dict):
        if "param" in value:
            return sql.threshold(value["param"])
        if "column" in value:
            return column_sql(value["column"])
        return "(" + " * ".join(_operand(v, column_sql, sql) for v in value["product"]) + ")"
    return sql.bind(value)


def asof_view(department: str) -> str:
    """The facts of a department valid at each monitoring snapshot, plus computed columns."""
    table = FACT_TABLES[department]
    computed = "".join(f", {expr} AS {quote(name)}" for name, expr in COMPUTED.items()
                       if name in fact_columns(department) - set(fact_table(department).column_names()))
    return (f"CREATE OR REPLACE TEMP VIEW _asof_{department} AS SELECT s.snapshot_date, "
            + ", ".join(f"f.{quote(c)}" for c in fact_table(department).column_names() if c != "content_hash")
            + f"{computed} FROM monitor.snapshot s JOIN core.{table} f ON f.valid_from <= s.snapshot_date "
            "AND (f.valid_to IS NULL OR f.valid_to > s.snapshot_date)")


def _hit_columns(target: str) -> str:
    first = "rule" if target == "monitor.rule_hit" else "context"
    return (f"INSERT INTO {target} ({first}, snapshot_date, household_id, person_id, department, record_id, record_key, test, "
            "from_quarantine, evidence, region, ruleset_version) ")


def record_test_sql(rule: Rule, index: int, test: dict, version: str, target: str) -> tuple[str, dict]:
    """Fact rows matching ``where``; with ``include_quarantined``, also the department's quarantined rows
    that ``warehouse.quarantined`` attributes to a person (``from_quarantine``, the row named in evidence)."""
    department = test["department"]
    sql = _Sql(rule.name, "f.county", "f.snapshot_date")
    cond = compile_condition(test["where"], lambda c: f"f.{quote(c)}", sql)
    evidence_cols = list(dict.fromkeys(test.get("evidence") or []))
    values = "struct_pack(" + ", ".join(f"{quote(c)} := f.{quote(c)}" for c in evidence_cols) + ")" if evidence_cols else "NULL"
    sql.params.update(department=department, test=f"{index}:record", version=version)
    joins, thresholds = " ".join(sql.joins), sql.thresholds_struct()
    text = (_hit_columns(target) + f"SELECT $rule, f.snapshot_date, f.household_id, f.person_id, $department, f.record_id, f.record_key, "
            f"$test, false, to_json(struct_pack(\"values\" := {values}, thresholds := {thresholds})), nullif(f.county, ''), $version "
            f"FROM _asof_{department} f {joins} WHERE f.household_id IS NOT NULL AND coalesce({cond}, false)")
    if test.get("include_quarantined"):
        # no record_id/record_key: the row never became a record; the evidence names it for the department
        # a list, as household tests give (one entry per quarantined row counted)
        row = "[struct_pack(department := $department, file_name := f.file_name, row_number := f.row_number)]"
        text += (f" UNION ALL SELECT $rule, f.snapshot_date, f.household_id, f.person_id, $department, NULL, NULL, $test, true, "
                 f"to_json(struct_pack(\"values\" := {values}, thresholds := {thresholds}, quarantined := {row})), "
                 f"nullif(f.county, ''), $version FROM {quarantined.table_name(department)} f {joins} "
                 f"WHERE coalesce({cond}, false)")
    return text, sql.params


#: ID numbers in rows the department sent but validation quarantined (e.g. a blank name), in its latest
#: file up to each snapshot: their persons are not known to be absent. ``$department`` is bound by the caller.
QUARANTINED_IDS_SQL = f"""
    WITH latest_file AS ({quarantined.LATEST_FILES_SQL})
    SELECT DISTINCT l.snapshot_date, unnest(regexp_extract_all(upper(q.raw_row), '[0-9]{{17}}[0-9X]')) AS id_number
    FROM restricted.quarantine_row q JOIN latest_file l ON l.file_id = q.file_id WHERE q.department = $department"""

VALID_ID = "('valid', 'legacy_converted')"


def _id_columns(department: str) -> list[str]:
    layout = fact_layout(department)
    return [n for n in layout.identity_fields if layout.specs[n].kind is Kind.ID_NUMBER]


def _identity_join(department: str) -> str:
    ident = identity_table(department).name
    return f"JOIN restricted.{quote(ident)} i ON i.record_id = f.record_id AND i.valid_from = f.valid_from"


def _name_column(department: str, id_column: str) -> str | None:
    """The name field beside an ID-number field (guardian_id_number -> guardian_name), if the schema has one."""
    layout = fact_layout(department)
    name = id_column.removesuffix("id_number") + "name"
    return name if name in layout.identity_fields and layout.specs[name].kind is Kind.NAME else None


def _named_by_id_sql(department: str, column: str) -> str:
    """Persons a ``department`` record names by the ID number in ``column``, per snapshot and household.

    The ID comes from the version in force; else from the record's latest version that has a valid
    one and names the same person; else from the latest valid one beside the same name on another
    record of the household (a pupil's sibling names the same guardian). Names are compared in
    pinyin (a homophone or a traditional character is the same name). One extract often leaves the
    cell blank, but a record whose guardian changed must not be read with the former guardian's number.
    """
    name = _name_column(department, column)
    status, number = quote(column + "_status"), quote(column)
    versions = (f"FROM core.{quote(FACT_TABLES[department])} c JOIN restricted.{quote(identity_table(department).name)} ci "
                f"ON ci.record_id = c.record_id AND ci.valid_from = c.valid_from WHERE c.{status} IN {VALID_ID}")
    if name is None:
        same_record = f"LEFT JOIN (SELECT c.record_id, arg_max(ci.{number}, c.valid_from) AS id_number {versions} " \
                      "GROUP BY ALL) r ON r.record_id = f.record_id "
        same_household, fallbacks = "", "r.id_number"
    else:
        pinyin = quote(name + "_pinyin")
        same_record = (f"LEFT JOIN (SELECT c.record_id, ci.{pinyin} AS pinyin, arg_max(ci.{number}, c.valid_from) AS id_number "
                       f"{versions} GROUP BY ALL) r ON r.record_id = f.record_id AND r.pinyin IS NOT DISTINCT FROM i.{pinyin} ")
        same_household = (f"LEFT JOIN (SELECT c.household_id, ci.{pinyin} AS pinyin, arg_max(ci.{number}, c.valid_from) AS id_number "
                          f"{versions} AND c.household_id IS NOT NULL AND ci.{pinyin} IS NOT NULL GROUP BY ALL) s "
                          f"ON s.household_id = f.household_id AND s.pinyin = i.{pinyin} ")
        fallbacks = "r.id_number, s.id_number"
    return (
        f"SELECT f.snapshot_date, f.household_id, f.county, "
        f"  coalesce(CASE WHEN f.{status} IN {VALID_ID} THEN i.{number} END, {fallbacks}) AS id_number, "
        f"  '{department}' AS known_in "  # a validated department name
        f"FROM _asof_{department} f {_identity_join(department)} {same_record}{same_household}"
        f"WHERE f.household_id IS NOT NULL")


def absent_test_sql(rule: Rule, index: int, test: dict, version: str, target: str) -> tuple[str, dict]:
    """Persons known to another department but absent from ``department``'s data as of each snapshot.

    Known: persons linked to a ``known_in`` record, and persons only named on one by a valid ID number
    (``known_by_id``, e.g. a pupil's guardian), counted against that record's household. Present:
    linked to a record of ``department``, or their ID number is on one of its records or in a row of
    it that validation quarantined. Only counties whose ``department`` data exists are judged.
    """
    department = test["department"]
    known = sorted(set(test["known_in"]) - {department})
    params = {"rule": rule.name, "department": department, "test": f"{index}:absent", "version": version}
    known_union = " UNION ALL ".join(
        f"SELECT snapshot_date, person_id, household_id, county, '{d}' AS known_in FROM _asof_{d} "
        "WHERE person_id IS NOT NULL AND household_id IS NOT NULL" for d in known)  # d: validated department name
    named_union = " UNION ALL ".join(_named_by_id_sql(n["department"], n["column"]) for n in test.get("known_by_id") or []) or \
        "SELECT NULL::DATE AS snapshot_date, NULL AS household_id, NULL AS county, NULL AS id_number, NULL AS known_in WHERE false"
    own_ids = " UNION ".join(
        f"SELECT f.snapshot_date, i.{quote(c)} AS id_number FROM _asof_{department} f {_identity_join(department)} "
        f"WHERE i.{quote(c)} IS NOT NULL" for c in _id_columns(department)) or \
        "SELECT NULL::DATE AS snapshot_date, NULL AS id_number WHERE false"
    text = (
        _hit_columns(target)
        + f"WITH known AS ({known_union}), "
        f"covered AS (SELECT DISTINCT snapshot_date, county FROM _asof_{department}), "
        f"quarantined AS ({QUARANTINED_IDS_SQL}), "
        f"present AS (SELECT DISTINCT snapshot_date, person_id FROM _asof_{department} WHERE person_id IS NOT NULL "
        "  UNION SELECT q.snapshot_date, p.person_id FROM quarantined q JOIN restricted.person_identity p USING (id_number)), "
        f"present_ids AS ({own_ids} UNION SELECT snapshot_date, id_number FROM quarantined "
        "  UNION SELECT p.snapshot_date, i.id_number FROM present p JOIN restricted.person_identity i USING (person_id) "
        "  WHERE i.id_number IS NOT NULL), "
        f"named AS ({named_union}), "
        "missing AS (SELECT k.snapshot_date, k.person_id, k.household_id, min(k.county) AS county, "
        "  list(DISTINCT k.known_in ORDER BY k.known_in) AS known_in FROM known k "
        "  JOIN covered c ON c.snapshot_date = k.snapshot_date AND c.county = k.county "
        "  ANTI JOIN present p ON p.snapshot_date = k.snapshot_date AND p.person_id = k.person_id "
        "  GROUP BY k.snapshot_date, k.person_id, k.household_id), "
        "named_missing AS (SELECT n.snapshot_date, any_value(pi.person_id ORDER BY pi.person_id) AS person_id, n.household_id, "
        "  min(n.county) AS county, list(DISTINCT n.known_in ORDER BY n.known_in) AS known_in FROM named n "
        "  JOIN covered c ON c.snapshot_date = n.snapshot_date AND c.county = n.county AND n.id_number IS NOT NULL "
        "  ANTI JOIN present_ids p ON p.snapshot_date = n.snapshot_date AND p.id_number = n.id_number "
        "  LEFT JOIN restricted.person_identity pi ON pi.id_number = n.id_number "
        "  GROUP BY n.snapshot_date, n.household_id, n.id_number "
        "  HAVING NOT EXISTS (SELECT 1 FROM missing m WHERE m.snapshot_date = n.snapshot_date AND m.household_id = n.household_id "
        "                     AND m.person_id = any_value(pi.person_id ORDER BY pi.person_id))) "
        "SELECT $rule, snapshot_date, household_id, person_id, $department, NULL, NULL, $test, false, "
        "to_json(struct_pack(\"values\" := struct_pack(known_in := known_in, absent_from := $department), "
        "thresholds := NULL)), county, $version FROM (SELECT * FROM missing UNION ALL SELECT * FROM named_missing)")
    return text, params


def household_test_sql(rule: Rule, index: int, test: dict, version: str, target: str) -> tuple[str, dict]:
    """Measures per household and snapshot, and ``where`` over them.

    A measure with ``include_quarantined`` also aggregates the department's quarantined rows that
    ``warehouse.quarantined`` attributes to a member. The hit then lists those rows under
    ``quarantined`` in its evidence, and is ``from_quarantine`` when the accepted rows alone
    would not have fired it.
    """
    sql = _Sql(rule.name, "h.county", "u.snapshot_date")
    measures: dict[str, str] = {}
    accepted: dict[str, str] = {}  # the same measures over accepted rows only
    provisional: list[str] = []
    ctes, universe, departments = [], [], set()
    for i, (name, m) in enumerate(test["measures"].items()):
        if "builtin" in m:
            measures[name] = accepted[name] = BUILTIN_MEASURES[m["builtin"]]
            continue
        department, column, agg = m["department"], quote(m["column"]), m["agg"]
        departments.add(department)
        if m.get("include_quarantined"):
            # Evidence names the row as the department sees it (file name, row number), not by file_id:
            # a hash prefix can hold a digit run the privacy scan rightly reads as an ID number.
            rows = (f"SELECT snapshot_date, household_id, {column}, false AS provisional, NULL::VARCHAR AS file_name, "
                    f"NULL::INTEGER AS row_number FROM _asof_{department} WHERE household_id IS NOT NULL "
                    f"UNION ALL SELECT snapshot_date, household_id, {column}, true, file_name, row_number "
                    f"FROM {quarantined.table_name(department)} WHERE {column} IS NOT NULL")
            ctes.append(
                f"m{i} AS (SELECT snapshot_date, household_id, round({agg}({column}), 2) AS v, "
                f"round({agg}({column}) FILTER (WHERE NOT provisional), 2) AS accepted, "
                f"list(struct_pack(department := {sql.bind(department)}, file_name := file_name, row_number := row_number, "
                f"measure := {sql.bind(name)}, value := to_json({column})) ORDER BY file_name, row_number) "
                f"FILTER (WHERE provisional) AS quarantined FROM ({rows}) GROUP BY ALL)")
            accepted[name] = f"m{i}.accepted"
            provisional.append(f"coalesce(m{i}.quarantined, [])")
        else:
            ctes.append(f"m{i} AS (SELECT snapshot_date, household_id, round({agg}({column}), 2) AS v "
                        f"FROM _asof_{department} WHERE household_id IS NOT NULL GROUP BY ALL)")
            accepted[name] = f"m{i}.v"
        universe.append(f"SELECT snapshot_date, household_id FROM m{i}")
        measures[name] = f"m{i}.v"
    joins = [f"LEFT JOIN m{i} ON m{i}.snapshot_date = u.snapshot_date AND m{i}.household_id = u.household_id"
             for i, m in enumerate(test["measures"].values()) if "builtin" not in m]
    cond = compile_condition(test["where"], lambda c: measures[c], sql)
    from_quarantine = f"NOT coalesce({compile_condition(test['where'], lambda c: accepted[c], sql)}, false)" \
        if provisional else "false"
    values = ", ".join(f"{quote(n)} := {e}" for n, e in measures.items())
    listed = (", quarantined := " + " || ".join(provisional)) if provisional else ""
    sql.params.update(department=",".join(sorted(departments)), test=f"{index}:household", version=version)
    text = (_hit_columns(target) + "WITH " + ", ".join(ctes) + ", u AS (" + " UNION ".join(universe) + ") "
            f"SELECT $rule, u.snapshot_date, u.household_id, NULL, $department, NULL, NULL, $test, {from_quarantine}, "
            f"to_json(struct_pack(\"values\" := struct_pack({values}), thresholds := {sql.thresholds_struct()}{listed})), "
            f"h.county, $version FROM u LEFT JOIN core.household h ON h.household_id = u.household_id "
            "LEFT JOIN _household_size hs ON hs.snapshot_date = u.snapshot_date AND hs.household_id = u.household_id "
            + " ".join(joins) + " " + " ".join(sql.joins) + f" WHERE coalesce({cond}, false)")
    return text, sql.params


TEST_SQL = {"record": record_test_sql, "absent": absent_test_sql, "household": household_test_sql}


def rule_statements(ruleset: Ruleset) -> list[tuple[str, dict]]:
    out = []
    for rule in ruleset.rules + ruleset.contexts:
        target = "monitor.rule_hit" if rule.kind == "risk" else "monitor.context_hit"
        for index, test in enumerate(rule.tests):
            out.append(TEST_SQL[test["kind"]](rule, index, test, ruleset.version, target))
    return out


# ---------------------------------------------------------------------------
# evaluation

def load_rule_tables(conn: duckdb.DuckDBPyConnection, ruleset: Ruleset) -> None:
    conn.executemany(
        "INSERT INTO monitor.rule VALUES (?, ?, ?, ?, ?, ?)",
        [(r.name, r.kind, r.title_zh, r.description, json.dumps(r.definition, ensure_ascii=False, sort_keys=True),
          ruleset.version) for r in ruleset.rules + ruleset.contexts]
        + [(EXIT_RULE, "exit", "风险消除候选", "No rule fired for clear_months of snapshots and listed on_list_months.",
            json.dumps({"params": list(ruleset.exit_params)}), ruleset.version)])
    if ruleset.thresholds:
        conn.executemany("INSERT INTO monitor.rule_threshold VALUES (?, ?, ?, ?, ?)",
                         [(t.rule, t.region, t.year_from, t.name, t.value) for t in ruleset.thresholds])


def resolve_thresholds(conn: duckdb.DuckDBPyConnection) -> None:
    """``_rule_param``: every threshold resolved for every (county, snapshot) in the warehouse."""
    counties = " UNION ".join([f"SELECT DISTINCT county FROM core.{t}" for t in FACT_TABLES.values()]
                              + ["SELECT DISTINCT county FROM core.household"])
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rule_param AS
        WITH grid AS (
            SELECT DISTINCT coalesce(c.county, '') AS county, s.snapshot_date
            FROM ({counties} UNION SELECT '') c CROSS JOIN monitor.snapshot s)
        SELECT t.rule, t.param, g.county, g.snapshot_date,
               arg_max(t.value, (CASE WHEN t.region = 'default' THEN 0 ELSE length(t.region) END) * 100000
                                + coalesce(t.year_from, 0)) AS value
        FROM grid g JOIN monitor.rule_threshold t
          ON (t.region = 'default' OR starts_with(g.county, t.region))
         AND (t.year_from IS NULL OR t.year_from <= year(g.snapshot_date))
        GROUP BY ALL""")


def household_sizes(conn: duckdb.DuckDBPyConnection) -> None:
    """``_household_size``: members of each household at each snapshot.

    A member is a person with a record of the household in force at the snapshot, or one linkage
    lists in the household. ``core.household.n_members`` alone is today's size: a household that
    has since lost members would have its past income share judged against too few people.
    """
    in_force = " UNION ".join(f"SELECT snapshot_date, household_id, person_id FROM _asof_{d} "
                              "WHERE household_id IS NOT NULL AND person_id IS NOT NULL" for d in FACT_TABLES)
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _household_size AS
        SELECT snapshot_date, household_id, count(DISTINCT person_id)::INTEGER AS n_members
        FROM ({in_force} UNION SELECT s.snapshot_date, m.household_id, m.person_id
              FROM core.household_member m CROSS JOIN monitor.snapshot s)
        GROUP BY ALL""")


def quarantined_columns(ruleset: Ruleset) -> dict[str, list[str]]:
    """Department -> the columns measures read from its quarantined rows (``include_quarantined``)."""
    wanted: dict[str, list[str]] = {}
    for rule in ruleset.rules + ruleset.contexts:
        for test in rule.tests:
            needs = [(m["department"], [m["column"]]) for m in (test.get("measures") or {}).values()
                     if m.get("include_quarantined")]
            if test["kind"] == "record" and test.get("include_quarantined"):
                needs.append((test["department"], _record_columns(test)))
            for department, columns in needs:
                have = wanted.setdefault(department, [])
                have += [c for c in columns if c not in have]
    return wanted


def evaluate(conn: duckdb.DuckDBPyConnection, ruleset: Ruleset) -> None:
    """Fill monitor.rule, rule_threshold, rule_hit and context_hit (facts and snapshots loaded)."""
    load_rule_tables(conn, ruleset)
    for department in FACT_TABLES:
        conn.execute(asof_view(department))
    for department, wanted in quarantined_columns(ruleset).items():
        quarantined.stage(conn, department, wanted)
    household_sizes(conn)
    resolve_thresholds(conn)
    for text, params in rule_statements(ruleset):
        conn.execute(text, params)
