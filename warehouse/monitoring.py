"""The lead list over time: status per household and snapshot, entries, exits, exit candidates.

- entry: a rule fires at a snapshot and none did at the previous snapshot
  (``is_reentry`` when the household had been a lead before);
- exit: no rule fires, some did at the previous snapshot (the risk cleared; the
  household stays monitored until a person decides);
- exit candidate: no rule fired since ``last_hit_on`` for at least
  ``clear_months`` and the current spell on the list (since the last entry) is
  at least ``on_list_months`` old; thresholds from rules.yaml (rule ``exit``),
  by the household's region and the snapshot year.
"""

from __future__ import annotations

import duckdb

STATUS_SQL = """
CREATE OR REPLACE TEMP TABLE _status AS
WITH hits AS (
    SELECT snapshot_date, household_id, list(DISTINCT rule ORDER BY rule) AS rules, count(*)::INTEGER AS n_hits
    FROM monitor.rule_hit GROUP BY ALL),
first_hit AS (SELECT household_id, min(snapshot_date) AS first_hit FROM hits GROUP BY 1),
grid AS (
    SELECT s.snapshot_date, f.household_id, h.rules, h.n_hits, h.rules IS NOT NULL AS has_hit
    FROM first_hit f JOIN monitor.snapshot s ON s.snapshot_date >= f.first_hit
    LEFT JOIN hits h ON h.household_id = f.household_id AND h.snapshot_date = s.snapshot_date),
steps AS (
    SELECT *,
           coalesce(lag(has_hit) OVER w, false) AS prev_has_hit,
           lag(rules) OVER w AS prev_rules,
           coalesce(bool_or(has_hit) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), false) AS hit_before
    FROM grid WINDOW w AS (PARTITION BY household_id ORDER BY snapshot_date)),
spells AS (
    SELECT *, has_hit AND NOT prev_has_hit AS is_entry, NOT has_hit AND prev_has_hit AS is_exit
    FROM steps),
dated AS (
    SELECT *,
           max(CASE WHEN is_entry THEN snapshot_date END) OVER w AS listed_since,
           max(CASE WHEN has_hit THEN snapshot_date END) OVER w AS last_hit_on,
           last_value(rules IGNORE NULLS) OVER w AS last_rules
    FROM spells WINDOW w AS (PARTITION BY household_id ORDER BY snapshot_date ROWS UNBOUNDED PRECEDING)),
thresholds AS (
    SELECT d.*, CAST(tc.value AS INTEGER) AS clear_months, CAST(tl.value AS INTEGER) AS on_list_months
    FROM dated d
    LEFT JOIN core.household hh ON hh.household_id = d.household_id
    LEFT JOIN _rule_param tc ON tc.rule = 'exit' AND tc.param = 'clear_months'
         AND tc.county = coalesce(hh.county, '') AND tc.snapshot_date = d.snapshot_date
    LEFT JOIN _rule_param tl ON tl.rule = 'exit' AND tl.param = 'on_list_months'
         AND tl.county = coalesce(hh.county, '') AND tl.snapshot_date = d.snapshot_date),
candidates AS (
    SELECT *,
           NOT has_hit
           AND snapshot_date >= CAST(last_hit_on + to_months(clear_months) AS DATE)
           AND snapshot_date >= CAST(listed_since + to_months(on_list_months) AS DATE) AS is_candidate
    FROM thresholds)
SELECT *, coalesce(is_candidate AND NOT coalesce(lag(is_candidate) OVER (PARTITION BY household_id ORDER BY snapshot_date), false),
                   false) AS becomes_candidate
FROM candidates
"""


def compute(conn: duckdb.DuckDBPyConnection) -> None:
    """Fill monitor.household_status, lead and lead_event from monitor.rule_hit (thresholds resolved)."""
    conn.execute(STATUS_SQL)
    conn.execute("""
        INSERT INTO monitor.household_status
        SELECT snapshot_date, household_id,
               CASE WHEN has_hit THEN 'at_risk' WHEN coalesce(is_candidate, false) THEN 'exit_candidate' ELSE 'cleared' END,
               listed_since, last_hit_on, clear_months, on_list_months
        FROM _status""")
    conn.execute("""
        INSERT INTO monitor.lead
        SELECT s.snapshot_date, s.household_id, s.rules, s.n_hits, c.contexts, s.listed_since, s.is_entry
        FROM _status s
        LEFT JOIN (SELECT snapshot_date, household_id, list(DISTINCT context ORDER BY context) AS contexts
                   FROM monitor.context_hit GROUP BY ALL) c
               ON c.snapshot_date = s.snapshot_date AND c.household_id = s.household_id
        WHERE s.has_hit""")
    conn.execute("""
        INSERT INTO monitor.lead_event
        SELECT snapshot_date, household_id, 'entry', hit_before, rules FROM _status WHERE is_entry
        UNION ALL
        SELECT snapshot_date, household_id, 'exit', false, prev_rules FROM _status WHERE is_exit
        UNION ALL
        SELECT snapshot_date, household_id, 'exit_candidate', false, last_rules FROM _status WHERE becomes_candidate""")
    conn.execute("DROP TABLE _status")
