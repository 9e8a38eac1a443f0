"""Write–audit–publish for linkage outputs.

Linkage writes its tables to ``<state>/linkage/staging/``; the warehouse is
built from them; only when the warehouse's checks pass and it is published do
the new identifier assignments replace ``<state>/linkage/assignments.parquet``
(the baseline the next run keeps IDs stable against). A run that fails a check
therefore leaves both the published warehouse and the ID baseline untouched.
"""

from pathlib import Path

import polars as pl

from entity_resolution.household.pipeline import HouseholdLinkResult, LinkageState

TABLES = ("record_link", "person", "household", "household_member", "household_history", "id_lineage",
          "review_queue", "links", "blocking_report", "parameters")


class LinkageStaging:
    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.folder = self.state_dir / "linkage" / "staging"

    def path(self, table: str) -> Path:
        return self.folder / f"{table}.parquet"

    @property
    def published_lineage_path(self) -> Path:
        return self.state_dir / "linkage" / "id_lineage.parquet"

    def cumulative_lineage(self, new_events: pl.DataFrame) -> pl.DataFrame:
        """Lineage is history: this run's events added to every published run's.
        A rerun over the same input adds nothing (its events are already there)."""
        if not self.published_lineage_path.exists():
            return new_events.unique(maintain_order=True)
        published = pl.read_parquet(self.published_lineage_path)
        return pl.concat([published, new_events], how="diagonal_relaxed").unique(maintain_order=True)

    def write(self, result: HouseholdLinkResult) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for table in TABLES:
            frame: pl.DataFrame = getattr(result, table)
            if table == "id_lineage":
                frame = self.cumulative_lineage(frame)
            tmp = self.path(table).with_suffix(".parquet.tmp")
            frame.write_parquet(tmp)
            tmp.replace(self.path(table))
        result.state.assignments.write_parquet(self.path("assignments").with_suffix(".parquet.tmp"))
        self.path("assignments").with_suffix(".parquet.tmp").replace(self.path("assignments"))

    def read(self, table: str) -> pl.DataFrame:
        path = self.path(table)
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: run the linkage step first")
        return pl.read_parquet(path)

    def staged_state(self) -> LinkageState:
        return LinkageState(self.read("assignments"))

    def promote(self) -> Path:
        """Make the staged assignments (and lineage) the baseline for the next run (after publishing)."""
        lineage = self.read("id_lineage")
        tmp = self.published_lineage_path.with_suffix(".parquet.tmp")
        lineage.write_parquet(tmp)
        tmp.replace(self.published_lineage_path)
        return self.staged_state().save(self.state_dir)
