"""The warehouse DDL, owned in code and derived from the department schemas.

Tables are never created from whatever frame arrived (``CREATE TABLE AS``): a
department whose files were all rejected must still produce the full, typed
table. Every table and column carries a comment; the comments live here as
data beside the column definitions and are applied with ``COMMENT ON``, so the
data dictionary (``warehouse.dictionary``) is generated from the built file.

Schemas:

- ``core``: linkage results and one fact table per department, with history
  (``valid_from``/``valid_to``) and pseudonymous keys, without raw identifiers;
- ``monitor``: rule hits with evidence, the lead list, per-household status
  and entry/exit events;
- ``ops``: files, quarantine, runs, checks;
- ``restricted``: raw identifiers (ID numbers, names, phones, addresses,
  diagnoses) and their mapping to pseudonymous keys;
- ``analyst``: views only (``warehouse.views``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from schemas.columns import ColumnSpec, Kind
from schemas.departments import DEPARTMENT_ZH, DEPARTMENTS, columns

SCHEMAS = {
    "core": "Linked persons and households and one fact table per department, with snapshot history. No raw identifiers.",
    "monitor": "Risk rule hits with evidence, the lead list, household status over time, entry/exit events.",
    "ops": "Operational tables: files, quarantine reasons, runs and build checks.",
    "restricted": "Raw identifiers (ID numbers, names, phones, addresses, diagnoses) and their pseudonymous keys. Not for analysts.",
    "analyst": "Views for analysts: pseudonymous keys and masked values only.",
}

#: department -> core fact table name.
FACT_TABLES = {
    "education": "education_enrolment",
    "health": "health_coverage",
    "housing": "housing_assessment",
    "water": "water_survey",
    "civil_affairs": "assistance",
}

KIND_TYPE = {
    Kind.TEXT: "VARCHAR", Kind.NAME: "VARCHAR", Kind.ID_NUMBER: "VARCHAR", Kind.GENDER: "VARCHAR",
    Kind.DATE: "DATE", Kind.PHONE: "VARCHAR", Kind.ADDRESS: "VARCHAR", Kind.VILLAGE_CODE: "VARCHAR",
    Kind.ENUM: "VARCHAR", Kind.BOOL: "BOOLEAN", Kind.INT: "INTEGER", Kind.MONEY: "DOUBLE",
    Kind.YEAR: "INTEGER", Kind.SCHOOL_GRADE: "INTEGER", Kind.HOUSE_GRADE: "VARCHAR",
}

#: Kinds that identify a person directly: they go to ``restricted`` only.
IDENTIFYING_KINDS = frozenset({Kind.NAME, Kind.ID_NUMBER, Kind.PHONE, Kind.ADDRESS})

#: Free-text health details (diagnoses): restricted; core keeps ``has_<column>``.
HEALTH_DETAIL_COLUMNS = {"health": ("chronic_condition",)}


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    comment: str
    not_null: bool = False


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    comment: str
    columns: tuple[Col, ...]
    primary_key: tuple[str, ...] = ()
    #: where the rows come from, for the dictionary.
    source: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class FactLayout:
    """How one department's normalised frame maps onto core + restricted."""

    department: str
    table: str
    #: (output column, type, source expression over the staged frame's columns)
    core_fields: tuple[str, ...]
    identity_fields: tuple[str, ...]
    detail_fields: tuple[str, ...]
    specs: dict[str, ColumnSpec] = field(default_factory=dict)


def quote(identifier: str) -> str:
    """Quote an identifier that comes from code-owned metadata (never from data)."""
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """A SQL string literal for comment text owned by this module."""
    return "'" + text.replace("'", "''") + "'"


def _describe(spec: ColumnSpec, department: str) -> str:
    column = spec.column
    text = f"{column.zh} ({spec.kind.value})"
    if column.values:
        text += "; values: " + ", ".join(column.values)
    if column.description:
        text += ". " + column.description
    return text + f". From the {DEPARTMENT_ZH[department]} extract."


# ---------------------------------------------------------------------------
# department facts


def fact_layout(department: str) -> FactLayout:
    specs = {s.name: s for s in columns(department)}
    details = HEALTH_DETAIL_COLUMNS.get(department, ())
    core, identity = [], []
    for name, spec in specs.items():
        if name == "record_id" or name in details:
            continue
        (identity if spec.kind in IDENTIFYING_KINDS else core).append(name)
    return FactLayout(department, FACT_TABLES[department], tuple(core), tuple(identity), tuple(details), specs)


def source_columns(department: str) -> dict[str, str]:
    """Columns of the normalised frame the warehouse reads, with their DuckDB types.

    Follows ``docs/contracts.md``: every field plus the derived columns of its kind.
    """
    out = {
        "department": "VARCHAR", "file_id": "VARCHAR", "file_name": "VARCHAR", "row_number": "INTEGER",
        "snapshot_date": "DATE", "county": "VARCHAR", "flags": "VARCHAR[]",
    }
    for spec in columns(department):
        out[spec.name] = KIND_TYPE[spec.kind]
        out[f"{spec.name}_raw"] = "VARCHAR"
        if spec.kind is Kind.NAME:
            out[f"{spec.name}_pinyin"] = "VARCHAR"
        elif spec.kind is Kind.ID_NUMBER:
            out[f"{spec.name}_status"] = "VARCHAR"
            out[f"{spec.name}_birth_date"] = "DATE"
            out[f"{spec.name}_gender"] = "VARCHAR"
            out[f"{spec.name}_county"] = "VARCHAR"
        elif spec.kind is Kind.VILLAGE_CODE:
            out[f"{spec.name}_source"] = "VARCHAR"
    return out


_HISTORY_COLS = (
    Col("valid_from", "DATE", "First snapshot date from which this version of the record holds.", True),
    Col("valid_to", "DATE", "Snapshot date of the department's next extract for this county in which the record was absent "
        "or changed; NULL while the version is current. A version holds on dates d with valid_from <= d < valid_to."),
    Col("last_seen", "DATE", "Last snapshot date in which this version was present in an extract.", True),
)


def fact_table(department: str) -> Table:
    layout = fact_layout(department)
    cols = [
        Col("record_key", "VARCHAR", "Pseudonymous key of the department record (keyed hash of department + record ID).", True),
        Col("record_id", "VARCHAR", "The department's own record ID. Internal: may embed an ID number, never shown to analysts.", True),
        Col("person_id", "VARCHAR", "Linked person (core.person) at this version; NULL when the record was not linked."),
        Col("household_id", "VARCHAR", "Linked household (core.household) at this version; NULL when not linked."),
        Col("match_weight", "DOUBLE", "Linkage match weight of the record to its person (NULL for exact/singleton)."),
        Col("link_method", "VARCHAR", "How the record was linked: id_exact, probabilistic, household_evidence, review_decision, singleton."),
        Col("county", "VARCHAR", "6-digit county code of the record (village code, else the file name)."),
        *_HISTORY_COLS,
        Col("file_id", "VARCHAR", "File (ops.file) in which this version was first seen."),
        Col("row_number", "INTEGER", "Row of that file, as a person sees it in the file."),
        Col("flags", "VARCHAR[]", "Soft validation problems of the row, '<field>:<reason>'."),
        Col("content_hash", "UBIGINT", "Hash of the normalised values and links; a change starts a new version."),
    ]
    for name in layout.core_fields:
        spec = layout.specs[name]
        comment = _describe(spec, department)
        if name == "birth_date":
            comment += " Taken from a valid ID number when there is one, else as given."
        cols.append(Col(name, KIND_TYPE[spec.kind], comment))
        if spec.kind is Kind.VILLAGE_CODE:
            cols.append(Col(f"{name}_source", "VARCHAR", f"Where {name} came from: given, address or NULL."))
    for name in layout.identity_fields:
        if layout.specs[name].kind is Kind.ID_NUMBER:
            cols.append(Col(f"{name}_status", "VARCHAR", f"Quality of {name}: valid, legacy_converted, bad_check_digit, "
                            "excel_damaged, malformed, blank. The number itself is in restricted."))
    for name in layout.detail_fields:
        cols.append(Col(f"has_{name}", "BOOLEAN", f"Whether {layout.specs[name].column.zh} is recorded. The detail "
                        "(a diagnosis) is in restricted only."))
    zh = DEPARTMENT_ZH[department]
    return Table("core", layout.table, f"{zh} records ({department}) with snapshot history: one row per record version.",
                 tuple(cols), ("record_id", "valid_from"), source=f"accepted frames of {department}")


def identity_table(department: str) -> Table:
    layout = fact_layout(department)
    cols = [
        Col("record_key", "VARCHAR", "Pseudonymous key of the record (as in core).", True),
        Col("record_id", "VARCHAR", "The department's record ID.", True),
        Col("valid_from", "DATE", "Version of the record (as in core).", True),
        Col("person_id", "VARCHAR", "Linked person."),
    ]
    for name in layout.identity_fields:
        spec = layout.specs[name]
        base = _describe(spec, department)
        cols.append(Col(name, "VARCHAR", base + " Normalised."))
        cols.append(Col(f"{name}_raw", "VARCHAR", f"{name} exactly as read."))
        if spec.kind is Kind.NAME:
            cols.append(Col(f"{name}_pinyin", "VARCHAR", f"Toneless pinyin of {name}."))
        elif spec.kind is Kind.ID_NUMBER:
            cols.append(Col(f"{name}_birth_date", "DATE", f"Birth date encoded in {name}."))
            cols.append(Col(f"{name}_gender", "VARCHAR", f"Gender encoded in {name}."))
            cols.append(Col(f"{name}_county", "VARCHAR", f"Address code (county of first registration) in {name}."))
    for name in layout.detail_fields:
        cols.append(Col(name, "VARCHAR", _describe(layout.specs[name], department) + " Health detail: restricted."))
    return Table("restricted", f"{layout.table}_identity",
                 f"Raw identifiers of {DEPARTMENT_ZH[department]} records, per version of core.{layout.table}.",
                 tuple(cols), ("record_id", "valid_from"), source=f"accepted frames of {department}")


# ---------------------------------------------------------------------------
# everything else

def _static_tables() -> list[Table]:
    evidence_cols = (
        Col("snapshot_date", "DATE", "Monitoring snapshot (monitor.snapshot) at which the rule was evaluated.", True),
        Col("household_id", "VARCHAR", "Household the hit is counted against.", True),
        Col("person_id", "VARCHAR", "Person the evidence is about (NULL for household-level tests)."),
        Col("department", "VARCHAR", "Department whose data fired the test (comma-separated for household aggregates).", True),
        Col("record_id", "VARCHAR", "Department record that fired the test (NULL for household aggregates and absences)."),
        Col("record_key", "VARCHAR", "Pseudonymous key of that record."),
        Col("test", "VARCHAR", "Which test of the rule fired: record, absent or household, with its index.", True),
        Col("from_quarantine", "BOOLEAN", "True when the hit rests on a row validation quarantined (e.g. a blank name): "
            "the test would not fire on accepted rows alone. Provisional evidence, listed under evidence.quarantined "
            "(file name and row number); the department must correct that row.", True),
        Col("evidence", "JSON", "The values that made the test fire, and the thresholds applied.", True),
        Col("region", "VARCHAR", "County code used to choose thresholds (NULL: default)."),
        Col("ruleset_version", "VARCHAR", "Version of rules.yaml the hit was computed with.", True),
    )
    return [
        Table("core", "person", "Linked persons: one row per person_id of the linkage output. Identifiers are in restricted.person_identity.", (
            Col("person_id", "VARCHAR", "Stable person ID from linkage.", True),
            Col("person_key", "VARCHAR", "Pseudonymous key: keyed hash (HMAC-SHA256) of the normalised ID number, else of the person_id.", True),
            Col("key_basis", "VARCHAR", "What person_key hashes: id_number or person_id.", True),
            Col("gender", "VARCHAR", "Best gender (男/女)."),
            Col("birth_date", "DATE", "Best birth date."),
            Col("village_code", "VARCHAR", "Best 12-digit village code."),
            Col("n_records", "INTEGER", "Department records linked to the person."),
        ), ("person_id",), "linkage person"),
        Table("core", "household", "Linked households: one row per household_id of the linkage output.", (
            Col("household_id", "VARCHAR", "Stable household ID from linkage.", True),
            Col("household_key", "VARCHAR", "Pseudonymous key: keyed hash of the household_id.", True),
            Col("head_person_id", "VARCHAR", "Head of household (core.person)."),
            Col("village_code", "VARCHAR", "12-digit village code."),
            Col("county", "VARCHAR", "6-digit county code (first 6 digits of village_code); chooses regional rule thresholds."),
            Col("n_members", "INTEGER", "Number of members."),
        ), ("household_id",), "linkage household"),
        Table("core", "household_member", "Who belongs to which household.", (
            Col("household_id", "VARCHAR", "Household.", True),
            Col("person_id", "VARCHAR", "Member.", True),
            Col("relation", "VARCHAR", "Relation to the head, when known."),
        ), ("household_id", "person_id"), "linkage household_member"),
        Table("core", "record_link", "Linkage of every department record, per snapshot in which it appeared.", (
            Col("department", "VARCHAR", "Department folder name.", True),
            Col("record_id", "VARCHAR", "Department record ID. Internal.", True),
            Col("record_key", "VARCHAR", "Pseudonymous key of the record.", True),
            Col("snapshot_date", "DATE", "Extract date of the record's file (NULL when linkage gave no date)."),
            Col("person_id", "VARCHAR", "Linked person."),
            Col("household_id", "VARCHAR", "Linked household."),
            Col("match_weight", "DOUBLE", "Match weight (NULL for exact/singleton links)."),
            Col("method", "VARCHAR", "id_exact, probabilistic, household_evidence, review_decision or singleton."),
        ), (), "linkage record_link"),
        Table("core", "id_lineage", "How person and household IDs were created, kept, merged or split across runs.", (
            Col("entity", "VARCHAR", "person or household.", True),
            Col("id", "VARCHAR", "The ID concerned.", True),
            Col("event", "VARCHAR", "created, merged, split or kept.", True),
            Col("other_id", "VARCHAR", "The other ID of a merge or split."),
            Col("snapshot_date", "DATE", "Snapshot at which the event happened."),
            Col("reason", "VARCHAR", "Why."),
        ), (), "linkage id_lineage"),
        Table("monitor", "snapshot", "The monitoring snapshots: every extract date seen. Rules are evaluated as of each one, "
              "over the latest version of each department's facts valid on that date.", (
            Col("snapshot_date", "DATE", "Snapshot date.", True),
            Col("snapshot_index", "INTEGER", "1 for the earliest snapshot, increasing.", True),
        ), ("snapshot_date",)),
        Table("monitor", "rule", "The risk rules and contexts of rules.yaml, as evaluated in this build.", (
            Col("rule", "VARCHAR", "Rule name.", True),
            Col("kind", "VARCHAR", "risk (counts towards the lead list) or context (shown beside it).", True),
            Col("title_zh", "VARCHAR", "Chinese title."),
            Col("description", "VARCHAR", "What the rule means."),
            Col("definition", "JSON", "The rule as written in rules.yaml.", True),
            Col("ruleset_version", "VARCHAR", "Version of rules.yaml.", True),
        ), ("rule",)),
        Table("monitor", "rule_threshold", "Thresholds of rules.yaml, keyed by region (county code prefix or default) and year.", (
            Col("rule", "VARCHAR", "Rule name (exit for the exit-candidate rule).", True),
            Col("region", "VARCHAR", "County code prefix (2, 4 or 6 digits) or default.", True),
            Col("year_from", "INTEGER", "First year the value applies (NULL: all years until a later entry)."),
            Col("param", "VARCHAR", "Threshold (parameter) name.", True),
            Col("value", "DOUBLE", "Threshold value.", True),
        ), ()),
        Table("monitor", "rule_hit", "Risk rule hits: one row per household, snapshot, rule and piece of evidence.",
              (Col("rule", "VARCHAR", "Rule name from rules.yaml.", True), *evidence_cols), (), "rules.yaml"),
        Table("monitor", "context_hit", "Context flags (e.g. assistance in force) per household and snapshot: not failures, shown beside them.",
              (Col("context", "VARCHAR", "Context name from rules.yaml.", True), *evidence_cols), (), "rules.yaml"),
        Table("monitor", "lead", "The lead list: households with at least one rule hit, per snapshot.", (
            Col("snapshot_date", "DATE", "Snapshot.", True),
            Col("household_id", "VARCHAR", "Household.", True),
            Col("rules", "VARCHAR[]", "Rules that fired, sorted.", True),
            Col("n_hits", "INTEGER", "Number of hit rows (pieces of evidence).", True),
            Col("contexts", "VARCHAR[]", "Context flags at the same snapshot (e.g. assistance)."),
            Col("listed_since", "DATE", "Snapshot of the entry that started the current spell on the list.", True),
            Col("is_entry", "BOOLEAN", "True when the household entered the list at this snapshot.", True),
        ), ("snapshot_date", "household_id")),
        Table("monitor", "household_status", "Status of every household that was ever a lead, at every snapshot from its first hit on.", (
            Col("snapshot_date", "DATE", "Snapshot.", True),
            Col("household_id", "VARCHAR", "Household.", True),
            Col("status", "VARCHAR", "at_risk (a rule fired), cleared (no rule fired, not yet an exit candidate) or "
                "exit_candidate (no rule fired for the required months and listed long enough: a human decides).", True),
            Col("listed_since", "DATE", "Snapshot of the entry that started the current spell.", True),
            Col("last_hit_on", "DATE", "Latest snapshot, up to this one, at which a rule fired.", True),
            Col("clear_months", "INTEGER", "Months without a hit required for an exit candidate (rules.yaml, by region and year)."),
            Col("on_list_months", "INTEGER", "Months on the list required for an exit candidate (rules.yaml)."),
        ), ("snapshot_date", "household_id")),
        Table("monitor", "lead_event", "Entries, exits and exit candidates over time.", (
            Col("snapshot_date", "DATE", "Snapshot at which the event happened.", True),
            Col("household_id", "VARCHAR", "Household.", True),
            Col("event", "VARCHAR", "entry (a rule fires, none did at the previous snapshot), exit (no rule fires, "
                "some did at the previous snapshot) or exit_candidate (became a candidate for elimination).", True),
            Col("is_reentry", "BOOLEAN", "For entries: the household had been a lead before.", True),
            Col("rules", "VARCHAR[]", "Entry: rules firing now; exit and exit_candidate: rules of the last hit."),
        ), ("snapshot_date", "household_id", "event")),
        Table("ops", "file", "Every file version in the registry, with how the warehouse used it.", (
            Col("file_id", "VARCHAR", "sha256 of the file bytes, first 16 hex chars.", True),
            Col("department", "VARCHAR", "Department.", True),
            Col("file_name", "VARCHAR", "Name within the department folder."),
            Col("size", "BIGINT", "Bytes."),
            Col("mtime_ns", "BIGINT", "Modification time, ns since epoch."),
            Col("first_seen", "TIMESTAMP", "When ingestion first saw this version."),
            Col("county_from_name", "VARCHAR", "County code from the file name."),
            Col("extract_date", "DATE", "Extract (snapshot) date."),
            Col("counties", "VARCHAR[]", "Counties of the rows."),
            Col("status", "VARCHAR", "Registry status: ingested, unreadable, duplicate."),
            Col("rows_read", "INTEGER", "Rows read."),
            Col("rows_accepted", "INTEGER", "Rows accepted."),
            Col("rows_quarantined", "INTEGER", "Rows quarantined."),
            Col("blank_rows", "INTEGER", "Blank rows."),
            Col("reason", "VARCHAR", "Why a file was unreadable or a duplicate."),
            Col("rows_loaded", "INTEGER", "Accepted rows the warehouse loaded from this file (after supersession).", True),
            Col("role", "VARCHAR", "current (latest extract of its department and county), history, superseded "
                "(a later arrival of the same department, county and date replaced it) or not_loaded.", True),
        ), ("file_id", "department")),
        Table("ops", "quarantine", "Rows rejected by validation, with the reason. The raw row is in restricted.quarantine_row.", (
            Col("department", "VARCHAR", "Department.", True),
            Col("file_id", "VARCHAR", "File.", True),
            Col("file_name", "VARCHAR", "File name."),
            Col("row_number", "INTEGER", "Row as a person sees it in the file.", True),
            Col("field", "VARCHAR", "Field at fault, when one is."),
            Col("reason", "VARCHAR", "Stable English reason, e.g. 'missing required value'.", True),
        ), ()),
        Table("ops", "run", "Warehouse builds: the one that produced this file (built_this_file) and, before it, "
              "the runs of the warehouses published earlier, carried forward build after build.", (
            Col("run_id", "VARCHAR", "Run ID given by the caller.", True),
            Col("started_at", "TIMESTAMP", "When the run started (given by the caller)."),
            Col("triggered_by", "VARCHAR", "Who or what started the run."),
            Col("ruleset_version", "VARCHAR", "rules.yaml version.", True),
            Col("ruleset_sha256", "VARCHAR", "sha256 of rules.yaml.", True),
            Col("pseudonym_key_id", "VARCHAR", "Fingerprint of the pseudonym key (not the key): keys change when this changes.", True),
            Col("demo_key", "BOOLEAN", "True when the fixed demo key was used: not for real data.", True),
            Col("counts", "JSON", "Row counts per table.", True),
            Col("built_this_file", "BOOLEAN", "True for the run that built this file; false for earlier runs "
                "carried from the previously published warehouse.", True),
        ), ("run_id",)),
        Table("ops", "check", "Checks run on the built file before publishing.", (
            Col("check_name", "VARCHAR", "Check.", True),
            Col("passed", "BOOLEAN", "Whether it passed.", True),
            Col("detail", "VARCHAR", "What was found."),
        ), ("check_name",)),
        Table("restricted", "person_identity", "Best identifiers of each linked person and the pseudonymous key they map to.", (
            Col("person_id", "VARCHAR", "Person.", True),
            Col("person_key", "VARCHAR", "Pseudonymous key (as in core.person).", True),
            Col("id_number", "VARCHAR", "Best normalised 18-character ID number."),
            Col("name", "VARCHAR", "Best name."),
            Col("phone", "VARCHAR", "Best mobile phone."),
        ), ("person_id",), "linkage person"),
        Table("restricted", "quarantine_row", "Raw rows of quarantined records (they contain identifiers).", (
            Col("department", "VARCHAR", "Department.", True),
            Col("file_id", "VARCHAR", "File.", True),
            Col("row_number", "INTEGER", "Row.", True),
            Col("raw_row", "VARCHAR", "JSON object of the row as read, headers as found."),
        ), ()),
        Table("restricted", "review_queue", "Record pairs in linkage's uncertain band, both sides with identifiers.", (
            Col("match_weight", "DOUBLE", "Match weight of the pair."),
            Col("pair", "JSON", "The review-queue row as linkage produced it.", True),
        ), ()),
    ]


def all_tables() -> list[Table]:
    tables = _static_tables()
    for department in DEPARTMENTS:
        tables.append(fact_table(department))
        tables.append(identity_table(department))
    return tables


def table(qualified: str) -> Table:
    return next(t for t in all_tables() if t.qualified == qualified)


def table_comment(tbl: Table) -> str:
    if not tbl.primary_key:
        return tbl.comment
    return tbl.comment + f" Key: ({', '.join(tbl.primary_key)}), unique (checked before publishing)."


def create_statements(tbl: Table) -> list[str]:
    # The key is checked once by the build (warehouse.build.run_checks), not enforced by a PRIMARY KEY:
    # the file is written once and then only read, and an index over a million rows doubled both
    # the write time and the file size for no reader's benefit.
    cols = [f"{quote(c.name)} {c.type}{' NOT NULL' if c.not_null else ''}" for c in tbl.columns]
    stmts = [f"CREATE TABLE {tbl.schema}.{quote(tbl.name)} (\n  " + ",\n  ".join(cols) + "\n)"]
    stmts.append(f"COMMENT ON TABLE {tbl.schema}.{quote(tbl.name)} IS {_literal(table_comment(tbl))}")
    for c in tbl.columns:
        stmts.append(f"COMMENT ON COLUMN {tbl.schema}.{quote(tbl.name)}.{quote(c.name)} IS {_literal(c.comment)}")
    return stmts


def create_all(conn: duckdb.DuckDBPyConnection) -> list[Table]:
    """Create every schema and table (an empty, typed, commented warehouse)."""
    for schema in SCHEMAS:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    tables = all_tables()
    for tbl in tables:
        for stmt in create_statements(tbl):
            conn.execute(stmt)
    return tables
