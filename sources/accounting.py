"""Nothing lost: recount every ingested file from what is on disk.

The registry records the counts ingestion saw; this module counts again from
the accepted and quarantine Parquet files, so a crash between writes, a
truncated Parquet or a bug in the split shows up as an unbalanced file.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from sources.registry import StateDir, load_registry
from sources.reports import report_path

ACCOUNTING_SCHEMA = {
    "file_name": pl.String, "file_id": pl.String, "status": pl.String, "rows_read": pl.Int64,
    "accepted_on_disk": pl.Int64, "quarantined_on_disk": pl.Int64, "blank_rows": pl.Int64,
    "reported": pl.Boolean, "balanced": pl.Boolean,
}


def _parquet_rows(path: Path) -> int | None:
    if not path.exists():
        return None
    return pl.scan_parquet(path).select(pl.len()).collect().item()


def account_department(state: StateDir, landing: Path, department: str) -> pl.DataFrame:
    """One row per registered file of ``department``: counts on disk and whether they balance."""
    registry = load_registry(state).filter(pl.col("department") == department)
    rows = []
    for entry in registry.iter_rows(named=True):  # one row per file, not per record
        accepted = quarantined = None
        if entry["status"] == "ingested":
            accepted = _parquet_rows(state.accepted_path(department, entry["file_id"]))
            quarantined = _parquet_rows(state.quarantine_path(department, entry["file_id"]))
            balanced = (accepted is not None and quarantined is not None
                        and entry["rows_read"] == accepted + quarantined + (entry["blank_rows"] or 0))
        else:
            balanced = True
        reported = report_path(Path(landing) / department, entry["file_name"]).exists()
        if entry["status"] == "unreadable":
            balanced = balanced and reported
        rows.append({"file_name": entry["file_name"], "file_id": entry["file_id"], "status": entry["status"],
                     "rows_read": entry["rows_read"], "accepted_on_disk": accepted,
                     "quarantined_on_disk": quarantined, "blank_rows": entry["blank_rows"],
                     "reported": reported, "balanced": balanced})
    return pl.DataFrame(rows, schema=ACCOUNTING_SCHEMA)
