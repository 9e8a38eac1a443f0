"""Lead quality: per-rule precision and recall of ``monitor.rule_hit`` against a synth ground truth.

A warehouse household is mapped, per snapshot, to the true household most of
its department records belong to (``_truth/records.parquet``; the education
guardian row is left out: the record is about the child). Each rule's hits at a
snapshot then become a set of true households, compared with the true
households whose ``_truth/household_rules.parquet`` row ``fails``. Linkage
errors show up here too (a wrongly merged household maps to one true
household only); they are measured on their own by the linkage benchmark.

    .venv/bin/python -m warehouse.quality <warehouse.duckdb> <landing>/_truth
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

#: The record role that says whose record it is (a guardian is named on the child's record).
OWNER_ROLES = ("subject", "owner", "head")


@dataclass(frozen=True)
class RuleQuality:
    rule: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        hits = self.true_positives + self.false_positives
        return self.true_positives / hits if hits else 1.0

    @property
    def recall(self) -> float:
        truth = self.true_positives + self.false_negatives
        return self.true_positives / truth if truth else 1.0


def rule_quality(warehouse: Path | str, truth_dir: Path | str) -> dict[str, RuleQuality]:
    """Per rule, over every snapshot of the truth: hits vs. true failures, counted as (snapshot, true household)."""
    truth = Path(truth_dir)
    conn = duckdb.connect()
    try:
        conn.execute(f"ATTACH '{_path_literal(warehouse)}' AS wh (READ_ONLY)")
        records = str(truth / "records.parquet")
        rules = str(truth / "household_rules.parquet")
        rows = conn.execute(f"""
            WITH truth_record AS (
                SELECT DISTINCT department, record_id, snapshot_date, household_key
                FROM read_parquet('{_path_literal(records)}') WHERE role IN {OWNER_ROLES}),
            votes AS (
                SELECT l.snapshot_date, l.household_id, t.household_key, count(*) AS n
                FROM wh.core.record_link l
                JOIN truth_record t USING (department, record_id, snapshot_date)
                WHERE l.household_id IS NOT NULL GROUP BY ALL),
            mapped AS (
                SELECT snapshot_date, household_id, arg_max(household_key, (n, household_key)) AS household_key
                FROM votes GROUP BY ALL),
            predicted AS (
                SELECT DISTINCT h.rule, h.snapshot_date, m.household_key
                FROM wh.monitor.rule_hit h JOIN mapped m USING (snapshot_date, household_id)),
            actual AS (
                SELECT rule, snapshot_date, household_key
                FROM read_parquet('{_path_literal(rules)}') WHERE fails)
            SELECT coalesce(p.rule, a.rule) AS rule,
                   count(*) FILTER (WHERE p.rule IS NOT NULL AND a.rule IS NOT NULL) AS tp,
                   count(*) FILTER (WHERE a.rule IS NULL) AS fp,
                   count(*) FILTER (WHERE p.rule IS NULL) AS fn
            FROM predicted p FULL JOIN actual a USING (rule, snapshot_date, household_key)
            WHERE coalesce(p.snapshot_date, a.snapshot_date) IN (SELECT snapshot_date FROM wh.monitor.snapshot)
            GROUP BY 1 ORDER BY 1""").fetchall()
    finally:
        conn.close()
    return {rule: RuleQuality(rule, tp, fp, fn) for rule, tp, fp, fn in rows}


def _path_literal(path: Path | str) -> str:
    return str(path).replace("'", "''")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        raise SystemExit("usage: python -m warehouse.quality <warehouse.duckdb> <truth dir>")
    for rule, q in rule_quality(args[0], args[1]).items():
        print(json.dumps(asdict(q) | {"precision": round(q.precision, 4), "recall": round(q.recall, 4)}))


if __name__ == "__main__":
    main()
