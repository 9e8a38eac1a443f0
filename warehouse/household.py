"""``hearth household <id>``: one household whole, from the analyst views (masked values only)."""

from __future__ import annotations

import duckdb

from warehouse.ddl import FACT_TABLES, quote

#: Per department: the columns worth printing, besides the keys and validity.
FACT_COLUMNS = {
    "education": ["person_key", "status", "grade", "school", "birth_date"],
    "health": ["person_key", "year", "insured", "scheme", "total_cost", "out_of_pocket", "serious_illness",
               "has_chronic_condition"],
    "housing": ["person_key", "grade", "renovation", "assessed_on", "household_size"],
    "water": ["person_key", "supply", "quality_ok", "quantity_ok", "convenience_ok", "reliability_ok"],
    "civil_affairs": ["person_key", "relation", "assistance_type", "status", "per_capita_income", "monthly_benefit"],
}


def _table(conn: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[str]:
    rel = conn.sql(query, params=params)
    header, rows = rel.columns, rel.fetchall()
    if not rows:
        return ["  (none)"]
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    fmt = lambda values: "  " + "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in cells)]


def resolve(conn: duckdb.DuckDBPyConnection, household: str) -> str | None:
    """The household_key of a household given by its household_id or household_key."""
    rows = conn.sql("SELECT household_key FROM core.household WHERE household_id = $h OR household_key = $h",
                    params={"h": household}).fetchall()
    return rows[0][0] if rows else None


def describe_household(conn: duckdb.DuckDBPyConnection, household_id: str) -> str:
    key = resolve(conn, household_id)
    if key is None:
        return f"No household {household_id!r} in this warehouse."
    p = {"k": key}
    head = conn.sql("SELECT village_code, n_members, head_name_masked, status_now, rules_now FROM analyst.household "
                    "WHERE household_key = $k", params=p).fetchall()[0]
    lines = [f"Household {key}  village {head[0]}  members {head[1]}  head {head[2] or '?'}",
             f"Status at the latest snapshot: {head[3] or 'never a lead'}"
             + (f"  rules: {', '.join(head[4])}" if head[4] else ""), "", "Members"]
    lines += _table(conn, "SELECT person_key, relation, name_masked, id_number_masked, phone_masked, gender, birth_year "
                          "FROM analyst.household_member WHERE household_key = $k ORDER BY birth_year NULLS LAST, person_key", p)
    for department, table in FACT_TABLES.items():
        cols = ", ".join(quote(c) for c in FACT_COLUMNS[department])
        lines += ["", f"{table} ({department})"]
        lines += _table(conn, f"SELECT {cols}, valid_from, valid_to FROM analyst.{table} WHERE household_key = $k "
                              "ORDER BY person_key, valid_from", p)
    lines += ["", "Rule hits"]
    lines += _table(conn, "SELECT snapshot_date, rule, department, person_key, evidence FROM analyst.rule_hit "
                          "WHERE household_key = $k ORDER BY snapshot_date, rule, person_key", p)
    lines += ["", "Context"]
    lines += _table(conn, "SELECT snapshot_date, context, person_key, evidence FROM analyst.context_hit "
                          "WHERE household_key = $k ORDER BY snapshot_date, context", p)
    lines += ["", "History"]
    lines += _table(conn, "SELECT snapshot_date, status, listed_since, last_hit_on FROM analyst.household_status "
                          "WHERE household_key = $k ORDER BY snapshot_date", p)
    lines += ["", "Events"]
    lines += _table(conn, "SELECT snapshot_date, event, is_reentry, rules FROM analyst.lead_event "
                          "WHERE household_key = $k ORDER BY snapshot_date, event", p)
    return "\n".join(lines)
