"""Audits that decide whether a staged build may be published.

Pure functions over the staged linkage outputs, the previous ID baseline and
the file registry; ``pipelines`` turns them into blocking Dagster checks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl


@dataclass
class Audit:
    passed: bool
    summary: str
    metadata: dict = field(default_factory=dict)


def build_checks(staging: Path) -> Audit:
    """The build's own checks (ops.check: privacy scan, keys, counts)."""
    if not staging.exists():
        return Audit(False, f"staging warehouse {staging} is missing")
    with duckdb.connect(str(staging), read_only=True) as conn:
        rows = conn.sql("SELECT check_name, passed, detail FROM ops.check ORDER BY check_name").fetchall()
    failed = [f"{name}: {detail}" for name, passed, detail in rows if not passed]
    return Audit(not failed and bool(rows), "; ".join(failed) or f"{len(rows)} build checks passed",
                 {"checks": len(rows), "failed": failed})


def linkage_sanity(record_link: pl.DataFrame, household_member: pl.DataFrame, *,
                   max_household_size: int, min_link_rate: float) -> Audit:
    """No household beyond a plausible size; enough records linked to another record."""
    sizes = household_member.group_by("household_id").len()
    largest = int(sizes.get_column("len").max() or 0)
    oversized = sizes.filter(pl.col("len") > max_household_size).height
    linked = record_link.filter(pl.col("method") != "singleton").height
    rate = linked / max(1, record_link.height)
    problems = []
    if oversized:
        problems.append(f"{oversized} household(s) larger than {max_household_size} members (largest {largest}): "
                        "likely a runaway merge")
    if rate < min_link_rate:
        problems.append(f"only {rate:.1%} of records linked to another record (floor {min_link_rate:.0%})")
    return Audit(not problems, "; ".join(problems) or f"largest household {largest}, link rate {rate:.1%}",
                 {"largest_household": largest, "oversized_households": oversized, "link_rate": round(rate, 4)})


def id_stability(previous: pl.DataFrame | None, staged: pl.DataFrame, *, floor: float) -> Audit:
    """Share of entities of the last published run that kept their ID.

    ``previous``/``staged`` are assignment frames (entity, member, snapshot_date, id):
    for every member present in both, is its ID unchanged? Members that left are
    not counted (they are ended, not renamed)."""
    if previous is None or previous.height == 0:
        return Audit(True, "first run: no published baseline to compare with", {"id_stability": 1.0})
    keys = ["entity", "member", "snapshot_date"]
    both = previous.select(*keys, old="id").join(staged.select(*keys, new="id"), on=keys, how="inner",
                                                 nulls_equal=True)
    per_entity = both.group_by("entity").agg(kept=(pl.col("old") == pl.col("new")).mean(), n=pl.len())
    worst = float(per_entity.get_column("kept").min()) if per_entity.height else 1.0
    detail = {row["entity"]: round(row["kept"], 5) for row in per_entity.iter_rows(named=True)}
    return Audit(worst >= floor,
                 f"ID stability {detail} (floor {floor})" if per_entity.height else "nothing in common to compare",
                 {"id_stability": round(worst, 5), "by_entity": detail})


def freshness(registry: pl.DataFrame, departments: tuple[str, ...], *, today: dt.date, max_age_days: int) -> Audit:
    """Departments whose newest extract is older than ``max_age_days`` (or who never sent one)."""
    latest = dict(registry.filter(pl.col("status") == "ingested").group_by("department")
                  .agg(pl.col("extract_date").max()).iter_rows())
    stale = {}
    for department in departments:
        newest = latest.get(department)
        age = None if newest is None else (today - newest).days
        if age is None or age > max_age_days:
            stale[department] = "never received" if newest is None else f"{newest} ({age} days old)"
    return Audit(not stale, "; ".join(f"{d}: {why}" for d, why in stale.items()) or "every department is fresh",
                 {"stale": stale, "newest": {d: str(v) for d, v in latest.items()}})
