"""The whole asset graph materialised for real on a generated drop."""

import json

import dagster as dg
import duckdb
import polars as pl

from pipelines.ops.alerts import alert_on_run_failure
from pipelines.resources import HearthResource
from pipelines.run import run_pipeline
from sources.registry import StateDir, load_registry
from warehouse.build import fingerprints


def test_full_graph_publishes_a_warehouse(first_run):
    settings, outcome = first_run
    assert outcome.success, (outcome.failed_steps, outcome.failed_checks)
    assert settings.warehouse.exists()
    with duckdb.connect(str(settings.warehouse), read_only=True) as conn:
        links = conn.sql("select count(*) from core.record_link").fetchall()[0][0]
        persons = conn.sql("select count(*) from core.person").fetchall()[0][0]
    assert links > 0 and 0 < persons < links


def test_every_row_accounted_for(first_run):
    settings, outcome = first_run
    checks = [c for c in outcome.result.get_asset_check_evaluations() if c.check_name == "every_row_accounted_for"]
    assert len(checks) == 5 and all(c.passed for c in checks)
    registry = load_registry(StateDir(settings.state))
    ingested = registry.filter(pl.col("status") == "ingested")
    assert (ingested["rows_read"] == ingested["rows_accepted"] + ingested["rows_quarantined"]
            + ingested["blank_rows"]).all()
    truth = pl.read_parquet(settings.landing / "_truth" / "records.parquet")
    assert ingested["rows_accepted"].sum() > 0.9 * truth.select("department", "file_name", "record_id").n_unique()


def test_rerun_changes_nothing(first_run, with_key):
    settings, _ = first_run
    before = fingerprints(settings.warehouse)
    registry_before = load_registry(StateDir(settings.state))
    again = run_pipeline(settings)
    assert again.success
    registry_after = load_registry(StateDir(settings.state))
    assert registry_after.height == registry_before.height
    after = fingerprints(settings.warehouse)
    assert {k: v for k, v in after.items() if not k.startswith("ops.")} == \
           {k: v for k, v in before.items() if not k.startswith("ops.")}


def test_a_failed_check_keeps_the_published_warehouse(first_run, with_key):
    settings, _ = first_run
    before = settings.warehouse.read_bytes()
    strict = settings.model_copy(update={"max_household_size": 1})  # every real household is "implausible"
    with dg.instance_for_test() as instance:
        outcome = run_pipeline(strict, instance=instance)
        assert not outcome.success
        assert any("linkage_sanity" in c for c in outcome.failed_checks)
        assert settings.warehouse.read_bytes() == before
        # the refused run has its report too, saying why it was not published
        assert outcome.report == settings.reports / f"{outcome.run_id}.html"
        html = outcome.report.read_text(encoding="utf-8")
        assert "Not published" in html and "linkage_sanity" in html
        # and the run-failure alert names the checks and the report
        run = instance.get_run_by_id(outcome.run_id)
        failure = next(r.dagster_event for r in instance.all_logs(outcome.run_id)
                       if r.dagster_event is not None
                       and r.dagster_event.event_type_value in ("RUN_FAILURE", "PIPELINE_FAILURE"))
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure", dagster_event=failure, dagster_instance=instance,
            dagster_run=run, resources={"hearth": HearthResource.from_settings(strict)},
        ).for_run_failure()
        alert_on_run_failure(context)
    alert = json.loads((settings.data_dir / "alerts.log").read_text(encoding="utf-8").splitlines()[-1])
    assert alert["run_id"] == outcome.run_id and alert["report"] == str(outcome.report)
    assert any("linkage_sanity" in c for c in alert["failed_checks"])


def test_a_run_starts_no_process_that_could_outlive_it(first_run, with_key, monkeypatch):
    """``hearth run`` on its own instance mirrors no step output through ``tail -F`` processes: left behind
    (seen in CI), they keep the run's stderr open, so whatever reads it (``| tee``, a test) waits forever."""
    import subprocess

    settings, _ = first_run
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    started, real_popen = [], subprocess.Popen

    class Recording(real_popen):
        def __init__(self, args, *rest, **kwargs):
            started.append(args)
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Recording)
    assert run_pipeline(settings).success
    assert not [args for args in started if "tail" in list(args)[:1] or "watch_orphans" in " ".join(map(str, args))]
