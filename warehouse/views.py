"""The ``analyst`` schema: views with pseudonymous keys and masked values only.

No view selects an internal ID (record_id, person_id, household_id), a raw
identifier or a diagnosis: keys come from ``core`` (person_key, household_key,
record_key) and display values are masked by ``warehouse.privacy``. The privacy
scan (``privacy.scan_analyst_views``) checks the result on every build.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from warehouse import privacy
from warehouse.ddl import FACT_TABLES, _literal, all_tables, fact_table, quote

#: Fact columns analysts do not get: internal IDs and department case numbers.
HIDDEN_FACT_COLUMNS = {"record_id", "person_id", "household_id", "file_id", "row_number", "content_hash",
                       "family_no", "case_no"}

KEY_COMMENTS = {
    "household_key": "Pseudonymous household key (keyed hash). Stable while the pseudonym key and household ID are.",
    "person_key": "Pseudonymous person key (keyed hash of the normalised ID number, else of the person ID).",
    "record_key": "Pseudonymous key of the department record.",
    "head_person_key": "Pseudonymous key of the head of household.",
    "name_masked": "Name with the middle masked (王*芳; two characters: 王*).",
    "head_name_masked": "Head's name with the middle masked.",
    "id_number_masked": "ID number with all but the first 4 and last 4 characters masked (5299**********123X).",
    "phone_masked": "Mobile phone with the middle 4 digits masked (138****5678).",
    "birth_year": "Year of birth.",
    "status_now": "Monitoring status at the latest snapshot: at_risk, cleared, exit_candidate, or NULL (never a lead).",
    "rules_now": "Rules firing at the latest snapshot.",
    "n": "Number of rows.",
}


@dataclass(frozen=True)
class View:
    name: str
    comment: str
    sql: str
    column_comments: dict[str, str] = field(default_factory=dict)


def _fact_view(department: str) -> View:
    table = fact_table(department)
    cols = [c for c in table.column_names() if c not in HIDDEN_FACT_COLUMNS | {"record_key"}]
    select = ", ".join(f"f.{quote(c)}" for c in cols)
    return View(
        table.name,
        table.comment + " Pseudonymous keys; identifiers and diagnoses removed.",
        f"SELECT f.record_key, p.person_key, h.household_key, {select} FROM core.{quote(table.name)} f "
        "LEFT JOIN core.person p ON p.person_id = f.person_id "
        "LEFT JOIN core.household h ON h.household_id = f.household_id",
    )


def _hits_view(name: str, source: str, label: str, comment: str) -> View:
    return View(name, comment, f"""
        SELECT r.snapshot_date, h.household_key, r.{label}, r.department, r.record_key, p.person_key, r.test,
               r.from_quarantine, r.evidence, r.region, r.ruleset_version
        FROM monitor.{source} r
        LEFT JOIN core.household h ON h.household_id = r.household_id
        LEFT JOIN core.person p ON p.person_id = r.person_id""")


def analyst_views() -> list[View]:
    name = privacy.mask_name_sql("pi.name")
    views = [
        View("snapshot", "Monitoring snapshots (every extract date seen).", "SELECT * FROM monitor.snapshot"),
        View("household", "Households with their village, size, head (masked) and current monitoring status.", f"""
            WITH latest AS (SELECT max(snapshot_date) AS d FROM monitor.snapshot)
            SELECT h.household_key, h.village_code, h.county, h.n_members, p.person_key AS head_person_key,
                   {privacy.mask_name_sql('pi.name')} AS head_name_masked,
                   s.status AS status_now, l.rules AS rules_now
            FROM core.household h
            LEFT JOIN core.person p ON p.person_id = h.head_person_id
            LEFT JOIN restricted.person_identity pi ON pi.person_id = h.head_person_id
            LEFT JOIN monitor.household_status s ON s.household_id = h.household_id
                 AND s.snapshot_date = (SELECT d FROM latest)
            LEFT JOIN monitor.lead l ON l.household_id = h.household_id AND l.snapshot_date = (SELECT d FROM latest)"""),
        View("household_member", "Members of each household, with masked name, ID number and phone.", f"""
            SELECT h.household_key, p.person_key, m.relation, {name} AS name_masked,
                   {privacy.mask_id_sql('pi.id_number')} AS id_number_masked,
                   {privacy.mask_phone_sql('pi.phone')} AS phone_masked,
                   p.gender, year(p.birth_date) AS birth_year, p.village_code, p.key_basis
            FROM core.household_member m
            JOIN core.household h ON h.household_id = m.household_id
            LEFT JOIN core.person p ON p.person_id = m.person_id
            LEFT JOIN restricted.person_identity pi ON pi.person_id = m.person_id"""),
        *[_fact_view(d) for d in FACT_TABLES],
        _hits_view("rule_hit", "rule_hit", "rule", "Risk rule hits per household and snapshot, with their evidence."),
        _hits_view("context_hit", "context_hit", "context", "Context flags (e.g. assistance in force) per household and snapshot."),
        View("lead", "The lead list per snapshot: households with at least one rule hit. A lead is not a decision.", """
            SELECT l.snapshot_date, h.household_key, h.village_code, h.county, l.rules, l.n_hits, l.contexts,
                   l.listed_since, l.is_entry
            FROM monitor.lead l LEFT JOIN core.household h ON h.household_id = l.household_id"""),
        View("household_status", "Status of every household that was ever a lead, at every snapshot since: "
             "at_risk, cleared, exit_candidate.", """
            SELECT s.snapshot_date, h.household_key, h.village_code, s.status, s.listed_since, s.last_hit_on,
                   s.clear_months, s.on_list_months
            FROM monitor.household_status s LEFT JOIN core.household h ON h.household_id = s.household_id"""),
        View("lead_event", "Entries, exits and exit candidates over time.", """
            SELECT e.snapshot_date, h.household_key, h.village_code, e.event, e.is_reentry, e.rules
            FROM monitor.lead_event e LEFT JOIN core.household h ON h.household_id = e.household_id"""),
        View("rule", "The rules evaluated, as written in rules.yaml.", "SELECT * FROM monitor.rule"),
        View("rule_threshold", "Rule thresholds by region and year.", "SELECT * FROM monitor.rule_threshold"),
        View("file", "Files ingested and how the warehouse used them.", "SELECT * FROM ops.file"),
        View("quarantine_summary", "Quarantined rows counted per file and reason (the rows themselves are restricted).", """
            SELECT department, file_id, file_name, field, reason, count(*) AS n FROM ops.quarantine GROUP BY ALL"""),
        View("run", "Warehouse builds: the one that produced this file (built_this_file) and the earlier published ones.",
             "SELECT * FROM ops.run"),
    ]
    return views


def _known_comments() -> dict[str, str]:
    known: dict[str, str] = {}
    for tbl in all_tables():
        if tbl.schema == "restricted":
            continue
        for c in tbl.columns:
            known.setdefault(c.name, c.comment)
    return known | KEY_COMMENTS


def create_views(conn: duckdb.DuckDBPyConnection, views: list[View] | None = None) -> list[View]:
    views = analyst_views() if views is None else views
    known = _known_comments()
    for view in views:
        conn.execute(f"CREATE OR REPLACE VIEW analyst.{quote(view.name)} AS {view.sql}")
        conn.execute(f"COMMENT ON VIEW analyst.{quote(view.name)} IS {_literal(view.comment)}")
        cols = conn.sql("SELECT column_name FROM duckdb_columns() WHERE schema_name = 'analyst' AND table_name = $t",
                        params={"t": view.name}).fetchall()
        for (col,) in cols:
            comment = view.column_comments.get(col) or known.get(col) or f"See analyst.{view.name}."
            conn.execute(f"COMMENT ON COLUMN analyst.{quote(view.name)}.{quote(col)} IS {_literal(comment)}")
    return views
