"""County by county: the linkage graph fans out one step per county, the steps
run in parallel processes, and the result is the record_link of one combined run."""

import shutil

import dagster as dg
import polars as pl
from polars.testing import assert_frame_equal

from entity_resolution.household.counties import link_households_by_county
from entity_resolution.household.inputs import load_frames
from entity_resolution.household.pipeline import LinkageState, link_households
from pipelines.definitions import linkage_job_definition
from pipelines.staging import LinkageStaging

COUNTIES = {"529901", "529902", "529903", "529904"}


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("department", "record_id", "snapshot_date")


def test_county_steps_in_parallel_processes_give_the_combined_record_link(first_run, tmp_path, monkeypatch):
    settings, outcome = first_run
    assert outcome.success
    state = tmp_path / "state"
    shutil.copytree(settings.state, state)
    monkeypatch.setenv("HEARTH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HEARTH_LANDING_DIR", str(settings.landing))
    monkeypatch.setenv("HEARTH_STATE_DIR", str(state))
    monkeypatch.setenv("HEARTH_DEMO", "1")

    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        result = dg.execute_job(
            dg.reconstructable(linkage_job_definition), instance=instance,
            run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 2}}}},
        )
        assert result.success
        steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
        run_id = result.run_id
    for county in COUNTIES:
        assert f"linkage__households.county_candidates[{county}]" in steps
        assert f"linkage__households.county_persons[{county}]" in steps
    staged = LinkageStaging(state, run_id)
    assert not (staged.folder / "work").exists()  # the county steps' files are cleaned up

    frames = load_frames(state)
    previous = LinkageState.load(state)
    combined = link_households(frames, previous)
    assert_frame_equal(_sorted(staged.read("record_link")), _sorted(combined.record_link))
    assert_frame_equal(staged.read("person").sort("person_id"), combined.person.sort("person_id"))
    assert_frame_equal(staged.read("household").sort("household_id"), combined.household.sort("household_id"))


def test_county_steps_in_one_process_and_in_a_pool_give_the_combined_result(first_run, tmp_path):
    settings, _ = first_run
    frames = load_frames(settings.state)
    combined = link_households(frames)
    by_county = link_households_by_county(frames, tmp_path / "work")
    pooled = link_households(frames, workers=2)
    for other in (by_county, pooled):
        assert_frame_equal(_sorted(other.record_link), _sorted(combined.record_link))
        assert_frame_equal(other.household_history.sort("snapshot_date", "person_id"),
                           combined.household_history.sort("snapshot_date", "person_id"))
    assert not (tmp_path / "work").exists()
    assert combined.record_link.get_column("person_id").n_unique() < combined.record_link.height
