"""Household linkage county by county, as separate steps an orchestrator can
run in parallel (``pipelines/linkage``: one step per county, on one machine or
a cluster), with the result of ``link_households`` over all counties at once.

Each step reads and writes files in one run's work folder, so steps can run in
different processes or machines sharing the folder:

    prepare            mentions and person profiles of every county; the county list
    candidates(c)      per county: block + compare, and the counts training needs
    train              one set of parameters from every county's counts
    cluster(c)         per county: score + cluster with those parameters
    finish             counties combined, people who moved county joined by valid ID
                       number (``across_partitions`` rules), then households and stable IDs
"""

from __future__ import annotations

import json
import pickle
import shutil
import time
from pathlib import Path

import polars as pl

from entity_resolution.household.linkage_frame import person_profiles
from entity_resolution.household.mentions import build_mentions
from entity_resolution.household.pipeline import HouseholdLinkResult, LinkageState, finish_households
from entity_resolution.household.review import with_review_links
from entity_resolution.household.settings import load_settings
from entity_resolution.linker import Linker, LinkResult
from entity_resolution.partitioned import NULL_PARTITION, combine, load_candidates, save_candidates
from entity_resolution.settings import LinkageSettings
from entity_resolution.timing import StageClock


class CountyLinkage:
    """One run's county-by-county linkage, in ``folder``."""

    def __init__(self, folder: str | Path, settings: LinkageSettings | None = None):
        self.folder = Path(folder)
        self.settings = settings or load_settings()
        if not self.settings.partition_column:
            raise ValueError("county-by-county linkage needs partition_column in the linkage settings")
        self.linker = Linker(self.settings)

    # -- files ------------------------------------------------------------------
    def _county(self, county: str) -> Path:
        return self.folder / "counties" / county

    def _read(self, name: str) -> pl.DataFrame:
        return pl.read_parquet(self.folder / f"{name}.parquet")

    def _profiles(self) -> pl.DataFrame:
        return self._read("profiles")

    # -- steps ------------------------------------------------------------------
    def prepare(self, frames_by_department: dict[str, pl.DataFrame], decisions: pl.DataFrame | None) -> list[str]:
        """Write mentions and profiles; return the counties (partition keys) to link."""
        started, cpu = time.perf_counter(), time.process_time()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        mentions = build_mentions(frames_by_department)
        profiles, profile_of = person_profiles(mentions)
        profiles = with_review_links(profiles, decisions)
        for name, frame in (("mentions", mentions), ("profiles", profiles), ("profile_of", profile_of)):
            frame.write_parquet(self.folder / f"{name}.parquet")
        self._write_json("normalise", {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu})
        column = self.settings.partition_column
        keys = profiles.select(pl.col(column).cast(pl.String).fill_null(NULL_PARTITION)).unique().to_series()
        return sorted(keys.to_list())

    def _county_rows(self, county: str) -> pl.DataFrame:
        column = self.settings.partition_column
        return self._profiles().filter(pl.col(column).cast(pl.String).fill_null(NULL_PARTITION) == county)

    def candidates(self, county: str) -> int:
        """Block and compare one county; return its number of candidate pairs."""
        candidates = self.linker.candidates(self._county_rows(county))
        folder = save_candidates(candidates, self._county(county))
        (folder / "training_counts.pkl").write_bytes(pickle.dumps(candidates.training_counts()))
        return candidates.pairs.height

    def train(self, counties: list[str]) -> None:
        started = time.perf_counter()
        counts = [pickle.loads((self._county(c) / "training_counts.pkl").read_bytes()) for c in counties]
        records = self.linker.prepare(self._profiles())
        parameters = self.linker.train(records, counts)
        (self.folder / "parameters.pkl").write_bytes(pickle.dumps(parameters))
        records.write_parquet(self.folder / "records.parquet")  # all records, numbered: finish combines by them
        self._write_json("train", {"wall": time.perf_counter() - started})

    def cluster(self, county: str) -> None:
        parameters = pickle.loads((self.folder / "parameters.pkl").read_bytes())
        result = self.linker.finish(load_candidates(self._county(county), self.settings), parameters, "review")
        (self._county(county) / "result.pkl").write_bytes(pickle.dumps(result))

    def finish(
        self, counties: list[str], previous_state: LinkageState | None, decisions: pl.DataFrame | None
    ) -> HouseholdLinkResult:
        profiles = self._profiles()
        records = self._read("records")
        parameters = pickle.loads((self.folder / "parameters.pkl").read_bytes())
        results: list[LinkResult] = [
            pickle.loads((self._county(c) / "result.pkl").read_bytes()) for c in sorted(counties)
        ]
        linked = self.linker.reconcile(combine(results, records, self.settings, parameters), records)
        linked.timings["train"] = linked.cpu_timings["train"] = self._read_json("train")["wall"]
        clock = StageClock()
        normalise = self._read_json("normalise")
        clock.add("normalise", normalise["wall"], normalise["cpu"])
        return finish_households(self._read("mentions"), profiles, self._read("profile_of"), linked,
                                 previous_state, decisions, clock)

    def clean(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _write_json(self, name: str, value: dict) -> None:
        (self.folder / f"{name}.json").write_text(json.dumps(value), encoding="utf-8")

    def _read_json(self, name: str) -> dict:
        return json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))


def link_households_by_county(
    frames_by_department: dict[str, pl.DataFrame],
    folder: str | Path,
    previous_state: LinkageState | None = None,
    decisions: pl.DataFrame | None = None,
    settings: LinkageSettings | None = None,
) -> HouseholdLinkResult:
    """Every step in turn, in this process (what the orchestrator runs in parallel)."""
    work = CountyLinkage(folder, settings)
    counties = work.prepare(frames_by_department, decisions)
    for county in counties:
        work.candidates(county)
    work.train(counties)
    for county in counties:
        work.cluster(county)
    try:
        return work.finish(counties, previous_state, decisions)
    finally:
        work.clean()
