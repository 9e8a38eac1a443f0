"""Loading the contract frames into the warehouse tables, set-wise in DuckDB.

Frames are registered (polars -> arrow) or read with ``read_parquet`` and
copied with ``INSERT ... SELECT`` into the tables ``warehouse.ddl`` created.
Every expected column is selected with an explicit cast; a column the input
lacks becomes a typed NULL, so an empty or partial input still loads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import duckdb
import polars as pl

from schemas.departments import DEPARTMENTS
from warehouse import privacy
from warehouse.ddl import FACT_TABLES, Kind, fact_layout, fact_table, identity_table, quote, source_columns

FrameLike = Union[pl.DataFrame, pl.LazyFrame, Path, str, Sequence[Union[Path, str]], None]

LINK_COLUMNS = {"department": "VARCHAR", "record_id": "VARCHAR", "snapshot_date": "DATE", "person_id": "VARCHAR",
                "household_id": "VARCHAR", "match_weight": "DOUBLE", "method": "VARCHAR"}
PERSON_COLUMNS = {"person_id": "VARCHAR", "name": "VARCHAR", "id_number": "VARCHAR", "birth_date": "DATE",
                  "gender": "VARCHAR", "phone": "VARCHAR", "village_code": "VARCHAR", "n_records": "INTEGER"}
HOUSEHOLD_COLUMNS = {"household_id": "VARCHAR", "head_person_id": "VARCHAR", "village_code": "VARCHAR",
                     "n_members": "INTEGER"}
MEMBER_COLUMNS = {"household_id": "VARCHAR", "person_id": "VARCHAR", "relation": "VARCHAR"}
LINEAGE_COLUMNS = {"entity": "VARCHAR", "id": "VARCHAR", "event": "VARCHAR", "other_id": "VARCHAR",
                   "snapshot_date": "DATE", "reason": "VARCHAR"}
QUARANTINE_COLUMNS = {"department": "VARCHAR", "file_id": "VARCHAR", "file_name": "VARCHAR", "row_number": "INTEGER",
                      "field": "VARCHAR", "reason": "VARCHAR", "raw_row": "VARCHAR"}
REGISTRY_COLUMNS = {"file_id": "VARCHAR", "department": "VARCHAR", "file_name": "VARCHAR", "size": "BIGINT",
                    "mtime_ns": "BIGINT", "first_seen": "TIMESTAMP", "county_from_name": "VARCHAR",
                    "extract_date": "DATE", "counties": "VARCHAR[]", "status": "VARCHAR", "rows_read": "INTEGER",
                    "rows_accepted": "INTEGER", "rows_quarantined": "INTEGER", "blank_rows": "INTEGER",
                    "reason": "VARCHAR"}


@dataclass
class WarehouseInputs:
    """What the warehouse is built from (frames follow ``docs/contracts.md``).

    Each input is a polars DataFrame/LazyFrame, a parquet path or glob, a list
    of parquet paths, or None (empty).

    - ``accepted``: department -> the accepted normalised rows of all its files,
      current and history (meta columns incl. ``snapshot_date``, ``county``).
    - ``links``: one row per department record per snapshot:
      ``department, record_id, snapshot_date, person_id, household_id,
      match_weight, method`` (``snapshot_date`` may be absent/NULL: the link
      then holds for every snapshot of the record).
    - ``person``, ``household``, ``household_member``, ``id_lineage``,
      ``review_queue``: linkage outputs.
    - ``quarantine``: quarantine frames of all files; ``registry``: the file registry.
    """

    accepted: Mapping[str, FrameLike]
    links: FrameLike
    person: FrameLike
    household: FrameLike
    household_member: FrameLike
    id_lineage: FrameLike = None
    review_queue: FrameLike = None
    quarantine: FrameLike = None
    registry: FrameLike = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_state(cls, state_dir: Path | str, linkage_dir: Path | str | None = None) -> "WarehouseInputs":
        """Inputs from a state directory: ``accepted/<dept>/*.parquet``, ``quarantine/<dept>/*.parquet``,
        ``registry.parquet`` and the linkage outputs as ``<linkage_dir>/<table>.parquet``
        (``record_link``, ``person``, ``household``, ``household_member``, ``id_lineage``, ``review_queue``).
        """
        state = Path(state_dir)
        linkage = Path(linkage_dir) if linkage_dir else state / "linkage"

        def files(pattern_dir: Path) -> list[Path]:
            return sorted(pattern_dir.glob("*.parquet")) if pattern_dir.is_dir() else []

        def one(name: str) -> Path | None:
            path = linkage / f"{name}.parquet"
            return path if path.exists() else None

        quarantine = [p for d in DEPARTMENTS for p in files(state / "quarantine" / d)]
        return cls(
            accepted={d: files(state / "accepted" / d) for d in DEPARTMENTS},
            links=one("record_link"), person=one("person"), household=one("household"),
            household_member=one("household_member"), id_lineage=one("id_lineage"),
            review_queue=one("review_queue"), quarantine=quarantine or None,
            registry=state / "registry.parquet" if (state / "registry.parquet").exists() else None,
        )


# ---------------------------------------------------------------------------
# sources

def register(conn: duckdb.DuckDBPyConnection, name: str, source: FrameLike) -> list[str] | None:
    """Make ``source`` queryable as temp view ``name``; return its columns (None when empty)."""
    if source is None:
        return None
    if isinstance(source, pl.LazyFrame):
        source = source.collect()
    if isinstance(source, pl.DataFrame):
        conn.register(name, source.to_arrow())
        return source.columns
    paths = [str(source)] if isinstance(source, (str, Path)) else [str(p) for p in source]
    if not paths:
        return None
    rel = conn.read_parquet(paths, union_by_name=True)
    rel.create_view(name, replace=True)
    return rel.columns


def typed_select(name: str, present: list[str] | None, wanted: Mapping[str, str]) -> str:
    """SELECT every wanted column with its type from ``name``; missing ones as typed NULLs."""
    have = set(present or [])
    cols = [f"CAST({quote(c)} AS {t}) AS {quote(c)}" if c in have else f"CAST(NULL AS {t}) AS {quote(c)}"
            for c, t in wanted.items()]
    if present is None:
        return "SELECT " + ", ".join(cols) + " WHERE false"
    return "SELECT " + ", ".join(cols) + f" FROM {name}"


# ---------------------------------------------------------------------------
# department facts with history

def kept_columns(department: str) -> dict[str, str]:
    """Source columns the warehouse reads: all but the raw text of fields that only reach ``core``
    (the raw text of identifying fields goes to ``restricted``)."""
    raw_kept = {f"{name}_raw" for name in fact_layout(department).identity_fields}
    return {c: t for c, t in source_columns(department).items() if not c.endswith("_raw") or c in raw_kept}


def stage_department(conn: duckdb.DuckDBPyConnection, department: str, source: FrameLike, has_registry: bool) -> None:
    """``_stg_<dept>``: one narrow row per record and snapshot, after supersession and de-duplication,
    with its link and content hash. The wide values stay in the source (view ``_typed_<dept>``),
    read again only for the rows that start a version.

    Among files of the same department, county and extract date the one that
    arrived last (registry ``first_seen``; else the greatest file name) supersedes
    the others. A record ID repeated within one snapshot keeps its first row.
    A row is identified by (``file_id``, ``row_number``): the row as a person sees it in the file.
    """
    present = register(conn, f"_src_{department}", source)
    conn.execute(f"CREATE OR REPLACE TEMP VIEW _typed_{department} AS "
                 + typed_select(f"_src_{department}", present, kept_columns(department)))
    arrival = ("(SELECT file_id, max(first_seen) AS first_seen FROM _registry GROUP BY file_id)" if has_registry
               else "(SELECT NULL::VARCHAR AS file_id, NULL::TIMESTAMP AS first_seen WHERE false)")
    # Narrow first: windows and joins carry every column they are given.
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _kept_{department} AS
        WITH rows AS (SELECT t.file_id, t.file_name, t.row_number, t.record_id, t.snapshot_date, t.county, a.first_seen
                      FROM _typed_{department} t LEFT JOIN {arrival} a USING (file_id)
                      WHERE t.record_id IS NOT NULL AND t.snapshot_date IS NOT NULL),
        winner AS (SELECT coalesce(county, '') AS ck, snapshot_date,
                          arg_max(file_id, (coalesce(first_seen, TIMESTAMP '1900-01-01'), file_name, file_id)) AS file_id
                   FROM rows GROUP BY ALL)
        SELECT r.* EXCLUDE (first_seen) FROM rows r
        JOIN winner w ON w.ck = coalesce(r.county, '') AND w.snapshot_date = r.snapshot_date AND w.file_id = r.file_id
        QUALIFY row_number() OVER (PARTITION BY r.record_id, r.snapshot_date ORDER BY r.row_number, r.file_id) = 1
    """)
    content = ", ".join(f"t.{quote(c)}" for c in _content_columns(department))
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _stg_{department} AS
        WITH linked AS (
            SELECT k.*, coalesce(l.person_id, ll.person_id) AS person_id,
                   coalesce(l.household_id, ll.household_id) AS household_id,
                   CASE WHEN l.record_id IS NOT NULL THEN l.match_weight ELSE ll.match_weight END AS match_weight,
                   coalesce(l.method, ll.method) AS link_method
            FROM _kept_{department} k
            LEFT JOIN _links l ON l.department = '{department}' AND l.record_id = k.record_id
                              AND l.snapshot_date = k.snapshot_date
            LEFT JOIN _links_undated ll ON ll.department = '{department}' AND ll.record_id = k.record_id)
        SELECT s.*, hash({content}, s.person_id, s.household_id) AS content_hash
        FROM _typed_{department} t
        JOIN linked s ON s.file_id = t.file_id AND s.row_number = t.row_number AND s.record_id = t.record_id
                     AND s.snapshot_date = t.snapshot_date""")  # department: a code-owned name from DEPARTMENTS
    conn.execute(f"DROP TABLE _kept_{department}")


def stage_links(conn: duckdb.DuckDBPyConnection, links: FrameLike) -> None:
    present = register(conn, "_src_links", links)
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _links AS
        SELECT * FROM ({typed_select('_src_links', present, LINK_COLUMNS)})
        WHERE record_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY department, record_id, snapshot_date
                                   ORDER BY person_id, household_id, method) = 1""")
    # a link without a snapshot date holds for every snapshot of its record
    conn.execute("""
        CREATE OR REPLACE TEMP TABLE _links_undated AS
        SELECT * FROM _links WHERE snapshot_date IS NULL""")


def record_keys(conn: duckdb.DuckDBPyConnection, key: privacy.PseudonymKey) -> None:
    """``_record_key``: the pseudonymous key of every department record seen (computed once per record)."""
    union = " UNION ".join(f"SELECT '{d}' AS department, record_id FROM _stg_{d}" for d in FACT_TABLES)
    union = f"SELECT department, record_id FROM _links UNION {union}"
    message = "'record:' || department || ':' || record_id"
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _record_key AS SELECT department, record_id, "
                 f"{privacy.key_sql(message, 'r')} AS record_key FROM ({union})", key.sql_params())


def _content_columns(department: str) -> list[str]:
    meta = {"department", "file_id", "file_name", "row_number", "snapshot_date", "flags"}
    return [c for c in source_columns(department) if c not in meta and not c.endswith("_raw")]


#: A version ends where the record is absent from, or changed in, its county's next extract.
#: Most records keep one content in one county over consecutive extracts: they are one group of
#: (record, content hash) whose snapshots are consecutive. Only the others need an ordered scan.
VERSIONS_SQL = """
CREATE OR REPLACE TEMP TABLE _ver AS
WITH county_snapshots AS (
    SELECT ck, snapshot_date, row_number() OVER w AS idx, lag(snapshot_date) OVER w AS prev_snapshot,
           lead(snapshot_date) OVER w AS next_snapshot
    FROM (SELECT DISTINCT coalesce(county, '') AS ck, snapshot_date FROM _stg_{d})
    WINDOW w AS (PARTITION BY ck ORDER BY snapshot_date)),
keyed AS (
    SELECT s.record_id, s.snapshot_date, s.content_hash, c.ck, c.idx, c.prev_snapshot, c.next_snapshot
    FROM _stg_{d} s JOIN county_snapshots c ON c.ck = coalesce(s.county, '') AND c.snapshot_date = s.snapshot_date),
grouped AS (
    SELECT record_id, content_hash, count(*) AS n, min(idx) AS first_idx, max(idx) AS last_idx,
           min(ck) AS ck, max(ck) AS ck_max, min(snapshot_date) AS valid_from, max(snapshot_date) AS last_seen,
           arg_max_null(next_snapshot, snapshot_date) AS valid_to
    FROM keyed GROUP BY record_id, content_hash),
simple AS (
    SELECT record_id FROM grouped GROUP BY record_id
    HAVING bool_and(n = last_idx - first_idx + 1 AND ck = ck_max) AND min(ck) = max(ck)),
marked AS (
    SELECT k.*, CASE WHEN lag(k.snapshot_date) OVER r = k.prev_snapshot AND lag(k.content_hash) OVER r = k.content_hash
                     THEN 0 ELSE 1 END AS starts_version
    FROM keyed k ANTI JOIN simple USING (record_id)
    WINDOW r AS (PARTITION BY k.record_id ORDER BY k.snapshot_date)),
numbered AS (
    SELECT *, sum(starts_version) OVER (PARTITION BY record_id ORDER BY snapshot_date ROWS UNBOUNDED PRECEDING) AS version_no
    FROM marked),
versions AS (
    SELECT g.record_id, g.valid_from, g.valid_to, g.last_seen FROM grouped g SEMI JOIN simple USING (record_id)
    UNION ALL
    SELECT record_id, min(snapshot_date), arg_max_null(next_snapshot, snapshot_date), max(snapshot_date)
    FROM numbered GROUP BY record_id, version_no)
SELECT s.file_id, s.row_number, s.record_id, k.record_key, s.person_id, s.household_id, s.match_weight, s.link_method,
       s.content_hash, v.valid_from, v.valid_to, v.last_seen
FROM versions v
JOIN _stg_{d} s ON s.record_id = v.record_id AND s.snapshot_date = v.valid_from
JOIN _record_key k ON k.department = '{d}' AND k.record_id = v.record_id
"""

#: Columns of a fact version that come from the version, not from the source row.
VERSION_COLUMNS = ("record_key", "person_id", "household_id", "match_weight", "link_method", "content_hash",
                   "valid_from", "valid_to", "last_seen")


def load_department(conn: duckdb.DuckDBPyConnection, department: str) -> None:
    """Fill ``core.<fact>`` and ``restricted.<fact>_identity`` with one row per record version."""
    layout = fact_layout(department)
    conn.execute(VERSIONS_SQL.format(d=department))  # department: a code-owned name from DEPARTMENTS

    def column(col: str) -> str:
        if col in VERSION_COLUMNS or col == "record_id":
            return f"v.{quote(col)}"
        if col.startswith("has_") and col[4:] in layout.detail_fields:
            return f"(t.{quote(col[4:])} IS NOT NULL)"
        if col in layout.specs and layout.specs[col].kind is Kind.MONEY:
            return f"round(t.{quote(col)}, 2)"  # yuan and fen: no binary-float tails in evidence
        if col == "birth_date" and "id_number" in layout.specs:
            return ("CASE WHEN t.id_number_status IN ('valid', 'legacy_converted') "
                    "THEN coalesce(t.id_number_birth_date, t.birth_date) ELSE t.birth_date END")
        return f"t.{quote(col)}"

    source = (f"FROM _typed_{department} t JOIN _ver v ON v.file_id = t.file_id AND v.row_number = t.row_number "
              "AND v.record_id = t.record_id")
    core, ident = fact_table(department), identity_table(department)
    conn.execute(f"INSERT INTO core.{quote(core.name)} SELECT "
                 + ", ".join(column(c) for c in core.column_names()) + f" {source}")
    conn.execute(f"INSERT INTO restricted.{quote(ident.name)} SELECT "
                 + ", ".join(column(c) for c in ident.column_names()) + f" {source}")
    conn.execute("DROP TABLE _ver")


# ---------------------------------------------------------------------------
# linkage, files, quarantine

def load_linkage(conn: duckdb.DuckDBPyConnection, inputs: WarehouseInputs, key: privacy.PseudonymKey) -> None:
    params = key.sql_params()
    present = register(conn, "_src_person", inputs.person)
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _person AS
        SELECT * REPLACE ({privacy.normalised_id_sql('id_number')} AS id_number)
        FROM ({typed_select('_src_person', present, PERSON_COLUMNS)}) WHERE person_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY person_id ORDER BY n_records DESC NULLS LAST, id_number, name,
                                   birth_date, gender, phone, village_code) = 1""")
    # An ID number shared by two linked persons would give them one key: those fall back to the person_id.
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _person_key AS
        SELECT person_id, CASE WHEN unique_id THEN 'id_number' ELSE 'person_id' END AS key_basis,
               {privacy.key_sql("CASE WHEN unique_id THEN id_number ELSE 'person:' || person_id END", 'p')} AS person_key
        FROM (SELECT person_id, id_number, id_number IS NOT NULL AND count(*) OVER (PARTITION BY id_number) = 1 AS unique_id
              FROM _person)""", params)
    conn.execute("""INSERT INTO core.person SELECT p.person_id, k.person_key, k.key_basis, p.gender, p.birth_date,
                    p.village_code, p.n_records FROM _person p JOIN _person_key k USING (person_id)""")
    conn.execute("""INSERT INTO restricted.person_identity SELECT p.person_id, k.person_key, p.id_number, p.name, p.phone
                    FROM _person p JOIN _person_key k USING (person_id)""")

    present = register(conn, "_src_member", inputs.household_member)
    conn.execute(f"""INSERT INTO core.household_member
        SELECT household_id, person_id, any_value(relation ORDER BY relation NULLS LAST)
        FROM ({typed_select('_src_member', present, MEMBER_COLUMNS)})
        WHERE household_id IS NOT NULL AND person_id IS NOT NULL GROUP BY ALL""")

    present = register(conn, "_src_household", inputs.household)
    conn.execute(f"""INSERT INTO core.household
        SELECT h.household_id, {privacy.key_sql("'household:' || h.household_id", 'h')}, h.head_person_id,
               h.village_code, left(h.village_code, 6), coalesce(h.n_members, m.n)::INTEGER
        FROM ({typed_select('_src_household', present, HOUSEHOLD_COLUMNS)}) h
        LEFT JOIN (SELECT household_id, count(*) AS n FROM core.household_member GROUP BY 1) m USING (household_id)
        WHERE h.household_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY h.household_id ORDER BY h.head_person_id NULLS LAST, h.village_code,
                                   h.n_members) = 1""", params)

    # A household a record is linked to but the household table lacks still gets a row (and a key),
    # so its rule hits reach analysts instead of vanishing in a join.
    conn.execute(f"""INSERT INTO core.household
        SELECT u.household_id, {privacy.key_sql("'household:' || u.household_id", 'h')}, NULL, NULL, NULL,
               (SELECT count(*) FROM core.household_member m WHERE m.household_id = u.household_id)::INTEGER
        FROM (SELECT DISTINCT household_id FROM _links WHERE household_id IS NOT NULL) u
        ANTI JOIN core.household h ON h.household_id = u.household_id""", params)

    conn.execute("""INSERT INTO core.record_link
        SELECT l.department, l.record_id, k.record_key, l.snapshot_date, l.person_id, l.household_id,
               l.match_weight, l.method
        FROM _links l JOIN _record_key k USING (department, record_id)""")

    present = register(conn, "_src_lineage", inputs.id_lineage)
    conn.execute(f"INSERT INTO core.id_lineage SELECT DISTINCT * FROM ({typed_select('_src_lineage', present, LINEAGE_COLUMNS)}) "
                 "WHERE entity IS NOT NULL AND id IS NOT NULL AND event IS NOT NULL")

    present = register(conn, "_src_review", inputs.review_queue)
    if present:
        weight = "CAST(r.match_weight AS DOUBLE)" if "match_weight" in present else "NULL"
        conn.execute(f"INSERT INTO restricted.review_queue SELECT DISTINCT {weight}, to_json(r) FROM _src_review r")


def load_ops(conn: duckdb.DuckDBPyConnection, inputs: WarehouseInputs) -> None:
    present = register(conn, "_src_quarantine", inputs.quarantine)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _quarantine AS SELECT DISTINCT * FROM "
                 f"({typed_select('_src_quarantine', present, QUARANTINE_COLUMNS)})")
    conn.execute("INSERT INTO ops.quarantine SELECT department, file_id, file_name, row_number, field, reason "
                 "FROM _quarantine WHERE department IS NOT NULL AND file_id IS NOT NULL AND row_number IS NOT NULL "
                 "AND reason IS NOT NULL")
    conn.execute("INSERT INTO restricted.quarantine_row SELECT DISTINCT department, file_id, row_number, raw_row "
                 "FROM _quarantine WHERE department IS NOT NULL AND file_id IS NOT NULL AND row_number IS NOT NULL")

    loaded = " UNION ALL ".join(
        f"SELECT '{d}' AS department, file_id, any_value(file_name) AS file_name, count(*) AS n, "
        f"max(snapshot_date) AS snapshot_date, list(DISTINCT coalesce(county, '')) AS cks FROM _stg_{d} GROUP BY file_id"
        for d in FACT_TABLES)
    conn.execute(f"""
        CREATE OR REPLACE TEMP TABLE _loaded AS
        WITH per_file AS ({loaded}),
        latest AS (SELECT department, ck, max(snapshot_date) AS latest
                   FROM (SELECT department, snapshot_date, unnest(cks) AS ck FROM per_file) GROUP BY ALL)
        SELECT f.department, f.file_id, f.file_name, f.n, f.snapshot_date,
               bool_or(f.snapshot_date = l.latest) AS is_current
        FROM per_file f, unnest(f.cks) AS u(ck)
        JOIN latest l ON l.department = f.department AND l.ck = u.ck
        GROUP BY ALL""")
    conn.execute(f"""
        INSERT INTO ops.file
        WITH reg AS (SELECT * FROM _registry WHERE file_id IS NOT NULL AND department IS NOT NULL
                     QUALIFY row_number() OVER (PARTITION BY file_id, department ORDER BY first_seen DESC NULLS LAST) = 1)
        SELECT coalesce(r.file_id, l.file_id), coalesce(r.department, l.department), coalesce(r.file_name, l.file_name),
               r.size, r.mtime_ns, r.first_seen, r.county_from_name, coalesce(r.extract_date, l.snapshot_date),
               r.counties, r.status, r.rows_read, r.rows_accepted, r.rows_quarantined, r.blank_rows, r.reason,
               coalesce(l.n, 0)::INTEGER,
               CASE WHEN l.is_current THEN 'current' WHEN l.n > 0 THEN 'history'
                    WHEN r.status = 'ingested' AND coalesce(r.rows_accepted, 0) > 0 THEN 'superseded'
                    ELSE 'not_loaded' END
        FROM reg r FULL JOIN _loaded l ON l.file_id = r.file_id AND l.department = r.department""")


def stage_registry(conn: duckdb.DuckDBPyConnection, registry: FrameLike) -> bool:
    present = register(conn, "_src_registry", registry)
    conn.execute(f"CREATE OR REPLACE TEMP TABLE _registry AS {typed_select('_src_registry', present, REGISTRY_COLUMNS)}")
    return present is not None


def load_snapshots(conn: duckdb.DuckDBPyConnection) -> None:
    union = " UNION ".join(f"SELECT DISTINCT snapshot_date FROM _stg_{d}" for d in FACT_TABLES)
    conn.execute(f"INSERT INTO monitor.snapshot SELECT snapshot_date, row_number() OVER (ORDER BY snapshot_date) "
                 f"FROM ({union})")


def load_all(conn: duckdb.DuckDBPyConnection, inputs: WarehouseInputs, key: privacy.PseudonymKey) -> None:
    unknown = set(inputs.accepted) - set(DEPARTMENTS)
    if unknown:
        raise ValueError(f"unknown departments in inputs.accepted: {sorted(unknown)}")
    has_registry = stage_registry(conn, inputs.registry)
    stage_links(conn, inputs.links)
    for department in DEPARTMENTS:
        stage_department(conn, department, inputs.accepted.get(department), has_registry)
    record_keys(conn, key)
    for department in DEPARTMENTS:
        load_department(conn, department)
    load_linkage(conn, inputs, key)
    load_ops(conn, inputs)
    load_snapshots(conn)


__all__ = ["WarehouseInputs", "load_all", "register", "typed_select", "Kind"]
