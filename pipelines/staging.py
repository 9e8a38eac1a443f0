"""Write–audit–publish for linkage outputs, one staging folder per run.

Linkage writes its tables to ``<state>/linkage/runs/<run>/``; the warehouse is
built from them into a staging file of the same run; only when the checks
pass and the warehouse is published do that run's identifier assignments
become the baseline (``<state>/linkage/assignments.parquet``) that the next run
keeps IDs stable against, and its tables move to ``<state>/linkage/published/``.
A run that fails a check leaves the published warehouse and the ID baseline
untouched, and two runs at once never read each other's half-written tables.
"""

import io
import shutil
from pathlib import Path

import polars as pl

from entity_resolution.household.pipeline import HouseholdLinkResult, LinkageState
from sources.registry import exclusive_lock

TABLES = ("record_link", "person", "household", "household_member", "household_history", "id_lineage",
          "review_queue", "links", "blocking_report", "parameters")
PUBLISHED = "published"


def run_key(run_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in run_id)


class LinkageStaging:
    def __init__(self, state_dir: Path, run: str = PUBLISHED):
        self.state_dir = Path(state_dir)
        self.linkage_dir = self.state_dir / "linkage"
        self.folder = self.linkage_dir / (PUBLISHED if run == PUBLISHED else f"runs/{run_key(run)}")

    def path(self, table: str) -> Path:
        return self.folder / f"{table}.parquet"

    @property
    def published_lineage_path(self) -> Path:
        return self.linkage_dir / "id_lineage.parquet"

    def cumulative_lineage(self, new_events: pl.DataFrame) -> pl.DataFrame:
        """Lineage is history: this run's events added to every published run's.
        A rerun over the same input adds nothing (its events are already there)."""
        if not self.published_lineage_path.exists():
            return new_events.unique(maintain_order=True)
        published = pl.read_parquet(io.BytesIO(self.published_lineage_path.read_bytes()))
        return pl.concat([published, new_events], how="diagonal_relaxed").unique(maintain_order=True)

    def write(self, result: HouseholdLinkResult) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        frames = {table: getattr(result, table) for table in TABLES}
        frames["id_lineage"] = self.cumulative_lineage(frames["id_lineage"])
        frames["assignments"] = result.state.assignments
        for table, frame in frames.items():
            tmp = self.path(table).with_suffix(".parquet.tmp")
            frame.write_parquet(tmp)
            tmp.replace(self.path(table))

    def read(self, table: str) -> pl.DataFrame:
        path = self.path(table)
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run the linkage step of this run first")
        return pl.read_parquet(path)

    def staged_state(self) -> LinkageState:
        return LinkageState(self.read("assignments"))

    def lock(self):
        """Publishing and promoting are one critical section across processes."""
        return exclusive_lock(self.linkage_dir / ".publish.lock")

    def promote(self) -> Path:
        """Make this run's assignments and lineage the baseline for the next run
        and its tables the published linkage outputs (call under ``lock``)."""
        lineage = self.read("id_lineage")
        tmp = self.published_lineage_path.with_suffix(".parquet.tmp")
        lineage.write_parquet(tmp)
        tmp.replace(self.published_lineage_path)
        baseline = self.staged_state().save(self.state_dir)
        published = self.linkage_dir / PUBLISHED
        if self.folder != published:
            retired = self.linkage_dir / f".{PUBLISHED}.old"
            shutil.rmtree(retired, ignore_errors=True)
            if published.exists():
                published.rename(retired)
            self.folder.rename(published)
            shutil.rmtree(retired, ignore_errors=True)
            self.folder = published
        return baseline

    def prune(self, older_than_seconds: float = 7 * 86400) -> None:
        """Staging left by failed or killed runs is kept a week for inspection, then removed."""
        import time

        cutoff = time.time() - older_than_seconds
        for folder in (self.linkage_dir / "runs").glob("*"):
            if folder != self.folder and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)

    def discard(self) -> None:
        if self.folder.name != PUBLISHED:
            shutil.rmtree(self.folder, ignore_errors=True)
