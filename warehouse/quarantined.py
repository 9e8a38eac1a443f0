"""Quarantined rows as provisional facts for the risk rules.

Validation quarantines a row that lacks a required value (a blank name, a blank
record ID): the department must correct it, and it never becomes a fact. For an
early-warning list that is not enough: a household must not drop off the list
because a clerk left a name blank. The quarantine keeps the row as read
(``restricted.quarantine_row``), so a rule may opt in (``include_quarantined``
in ``rules.yaml``) to read such rows as provisional evidence.

A quarantined row becomes a provisional fact of the snapshots at which its file
is the department's latest (as for the absence test), only when:

- its subject's ID number (the department's first ID-number column) is valid
  and is the ID number of exactly one linked person: an invalid or unknown ID
  attributes nothing. The row counts for the household the person's records
  were linked to at the latest snapshot up to this one (else the household
  linkage lists them in);
- that person has no accepted record of the department in force at the
  snapshot, and the row's record ID is not one in force: the accepted data is
  authoritative, and an exact duplicate of an accepted row adds nothing.

Headers are matched and values normalised by the department schema's own code
(``schemas.headers``, ``schemas.validate.field_stages``), on the few rows
concerned, set-wise: once per file for the headers, vectorised for the values.
"""

from __future__ import annotations

import duckdb
import polars as pl

from schemas.columns import Kind
from schemas.departments import columns
from schemas.headers import match_headers
from schemas.normalise import id_number as id_numbers
from schemas.normalise import run
from warehouse.ddl import KIND_TYPE, quote

#: ID-number statuses good enough to attribute a row to a person.
VALID_ID_STATUSES = (id_numbers.VALID, id_numbers.LEGACY_CONVERTED)

#: Per snapshot, the department's latest file (per county in the file name) at or before it:
#: the quarantined rows that stand for the department's data at that snapshot. ``$department`` is bound.
LATEST_FILES_SQL = """
    SELECT s.snapshot_date, f.file_id FROM ops.file f JOIN monitor.snapshot s ON f.extract_date <= s.snapshot_date
    WHERE f.department = $department AND f.role <> 'superseded'
    QUALIFY f.extract_date = max(f.extract_date) OVER (PARTITION BY s.snapshot_date, coalesce(f.county_from_name, ''))"""


def subject_id_column(department: str) -> str | None:
    """The ID-number column naming the person a record is about (the first in the schema), if any."""
    return next((s.name for s in columns(department) if s.kind is Kind.ID_NUMBER), None)


def table_name(department: str) -> str:
    return f"_quarantined_{department}"


def eligible_columns(department: str) -> set[str]:
    """Fact columns a provisional row can supply: schema fields other than identifiers, the record ID and the
    village code (which needs the address and the gazetteer; the household gives the place)."""
    return {s.name for s in columns(department)
            if s.name != "record_id"
            and s.kind not in (Kind.NAME, Kind.ID_NUMBER, Kind.PHONE, Kind.ADDRESS, Kind.VILLAGE_CODE)}


def stage(conn: duckdb.DuckDBPyConnection, department: str, wanted: list[str]) -> str:
    """Create TEMP TABLE ``_quarantined_<department>``; return its name.

    Columns: ``snapshot_date, file_id, file_name, row_number, record_id, person_id, household_id``,
    ``county`` (the household's: it chooses regional thresholds) and the ``wanted`` fact columns, typed
    as in the core fact table. Needs ``_asof_<department>``.
    """
    # here, not at the top: schemas.validate loads the name normalisers (pypinyin, ~1 s), which only
    # a build with an include_quarantined rule needs
    from schemas.validate import field_schema, field_stages

    specs = {s.name: s for s in columns(department)}
    unknown = set(wanted) - eligible_columns(department)
    if unknown:
        raise ValueError(f"{department}: quarantined rows cannot supply {sorted(unknown)}")
    id_column = subject_id_column(department)
    name = table_name(department)
    typed = ", ".join(f"CAST(NULL AS {KIND_TYPE[specs[c].kind]}) AS {quote(c)}" for c in wanted)
    empty = (f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT CAST(NULL AS DATE) AS snapshot_date, "
             "CAST(NULL AS VARCHAR) AS file_id, CAST(NULL AS VARCHAR) AS file_name, CAST(NULL AS INTEGER) AS row_number, CAST(NULL AS VARCHAR) AS record_id, "
             f"CAST(NULL AS VARCHAR) AS person_id, CAST(NULL AS VARCHAR) AS household_id, CAST(NULL AS VARCHAR) AS county"
             f"{', ' + typed if typed else ''} "
             "WHERE false")
    if id_column is None:  # no ID number in this department's rows: nothing can be attributed
        conn.execute(empty)
        return name

    params = {"department": department}
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _q_files AS {LATEST_FILES_SQL}", params)
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE _q_rows AS
        SELECT q.file_id, q.row_number,
               try_cast(CASE WHEN json_valid(q.raw_row) AND json_type(q.raw_row) = 'OBJECT' THEN q.raw_row END::JSON
                        AS MAP(VARCHAR, VARCHAR)) AS cells
        FROM restricted.quarantine_row q SEMI JOIN (SELECT DISTINCT file_id FROM _q_files) f ON f.file_id = q.file_id
        WHERE q.department = $department
        QUALIFY row_number() OVER (PARTITION BY q.file_id, q.row_number ORDER BY q.raw_row) = 1""", params)
    fields = ["record_id", id_column, *wanted]
    header_rows = conn.sql("SELECT file_id, arg_min(map_keys(cells), row_number) FROM _q_rows "
                           "WHERE cells IS NOT NULL GROUP BY file_id").fetchall()
    # One header match per file (a file's rows share its headers), the match ingestion made.
    mapping = [(file_id, header, canonical) for file_id, headers in header_rows
               for header, canonical in match_headers(list(headers), department).mapping.items() if canonical in fields]
    if not mapping:
        conn.execute(empty)
        _drop(conn)
        return name
    conn.register("_q_headers", pl.DataFrame(mapping, schema={"file_id": pl.String, "header": pl.String,
                                                              "canonical": pl.String}, orient="row").to_arrow())
    pivot = ", ".join(f"max(r.cell.value) FILTER (WHERE h.canonical = $f{i}) AS {quote(f)}" for i, f in enumerate(fields))
    raw = conn.sql(f"""
        SELECT r.file_id, r.row_number, {pivot}
        FROM (SELECT file_id, row_number, unnest(map_entries(cells)) AS cell FROM _q_rows WHERE cells IS NOT NULL) r
        JOIN _q_headers h ON h.file_id = r.file_id AND h.header = r.cell.key
        GROUP BY r.file_id, r.row_number""", params={f"f{i}": f for i, f in enumerate(fields)}).pl()
    normalised = raw.with_columns(pl.col(f).cast(pl.String) for f in fields)
    for field in fields:
        normalised = run(normalised, field_stages(specs[field], None, None))
    keep = ["file_id", "row_number", *(c for f in fields for c in field_schema(specs[f]) if not c.endswith("_raw"))]
    conn.register("_q_normalised", normalised.select(keep).to_arrow())

    values = "".join(f", CAST(n.{quote(c)} AS {KIND_TYPE[specs[c].kind]}) AS {quote(c)}" for c in wanted)

    def listed(alias: str) -> str:
        return "".join(f", {alias}.{quote(c)}" for c in wanted)

    valid = ", ".join(f"'{s}'" for s in VALID_ID_STATUSES)  # code-owned constants
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        WITH person_by_id AS (  -- an ID number two linked persons share attributes nothing
            SELECT id_number, any_value(person_id) AS person_id FROM restricted.person_identity
            WHERE id_number IS NOT NULL GROUP BY id_number HAVING count(*) = 1),
        matched AS (
            SELECT q.snapshot_date, n.file_id, f.file_name, n.row_number, CAST(n.record_id AS VARCHAR) AS record_id,
                   p.person_id{values}
            FROM _q_files q
            JOIN _q_normalised n ON n.file_id = q.file_id
            LEFT JOIN ops.file f ON f.file_id = q.file_id AND f.department = $department
            JOIN person_by_id p ON p.id_number = n.{quote(id_column)}
            WHERE n.{quote(id_column + '_status')} IN ({valid})),
        -- The household the person's records were linked to at the latest snapshot up to this one: when
        -- the quarantined row was the person's only current record, linkage lists them in no household now.
        linked_to AS (
            SELECT m.snapshot_date, m.person_id,
                   arg_max(l.household_id, (coalesce(l.snapshot_date, DATE '0001-01-01'), l.n, l.household_id)) AS household_id
            FROM (SELECT DISTINCT snapshot_date, person_id FROM matched) m
            JOIN (SELECT person_id, household_id, snapshot_date, count(*) AS n FROM core.record_link
                  WHERE household_id IS NOT NULL AND person_id IN (SELECT person_id FROM matched) GROUP BY ALL) l
              ON l.person_id = m.person_id AND (l.snapshot_date IS NULL OR l.snapshot_date <= m.snapshot_date)
            GROUP BY ALL),
        member_of AS (
            SELECT person_id, any_value(household_id) AS household_id FROM core.household_member
            GROUP BY person_id HAVING count(*) = 1),
        attributed AS (
            SELECT m.snapshot_date, m.file_id, m.file_name, m.row_number, m.record_id, m.person_id,
                   coalesce(l.household_id, h.household_id) AS household_id{listed('m')}
            FROM matched m
            LEFT JOIN linked_to l ON l.snapshot_date = m.snapshot_date AND l.person_id = m.person_id
            LEFT JOIN member_of h ON h.person_id = m.person_id)
        SELECT DISTINCT ON (t.snapshot_date, t.person_id, t.record_id{listed('t')})
               t.snapshot_date, t.file_id, t.file_name, t.row_number, t.record_id, t.person_id, t.household_id,
               h.county{listed('t')}
        FROM attributed t
        JOIN core.household h ON h.household_id = t.household_id
        ANTI JOIN (SELECT DISTINCT snapshot_date, person_id FROM _asof_{department} WHERE person_id IS NOT NULL) a
             ON a.snapshot_date = t.snapshot_date AND a.person_id = t.person_id
        ANTI JOIN (SELECT DISTINCT snapshot_date, record_id FROM _asof_{department}) r
             ON r.snapshot_date = t.snapshot_date AND r.record_id = t.record_id
        ORDER BY t.snapshot_date, t.person_id, t.record_id{listed('t')}, t.file_id, t.row_number""",
                 {"department": department})
    for temp in ("_q_headers", "_q_normalised"):
        conn.unregister(temp)
    _drop(conn)
    return name


def _drop(conn: duckdb.DuckDBPyConnection) -> None:
    for temp in ("_q_files", "_q_rows"):
        conn.execute(f"DROP TABLE IF EXISTS {temp}")
