"""A landing folder Hearth may not write (or read): a clear message naming the folder and what to
do, no stack trace, no publish (the previous warehouse stays whole), and no department report dropped:
the next run, once the folder is fixed, writes the waiting reports and equals a clean run.

Tests run as root, where permission bits stop nothing: ``refuse_under`` makes the ``os`` calls
under the folder fail with the kernel's error (EACCES, EROFS) instead.
"""

import errno
import shutil

import pytest
from rich.console import Console
from typer.testing import CliRunner

import pipelines.cli
from faults_support import content, refuse_under
from pipelines.run import run_pipeline
from pipelines.settings import HearthSettings
from sources import reports


@pytest.fixture
def world(drop, january, tmp_path, monkeypatch):
    """The whole drop landed, the January warehouse published before: the settings ``hearth run`` uses."""
    monkeypatch.delenv("HEARTH_PSEUDONYM_KEY", raising=False)  # the demo key, as in the clean run
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    shutil.copytree(drop, tmp_path / "landing")
    shutil.copy2(january[0], tmp_path / "warehouse.duckdb")
    return HearthSettings(data_dir=tmp_path, landing_dir=tmp_path / "landing",
                          warehouse_path=tmp_path / "warehouse.duckdb", state_dir=tmp_path / "state",
                          reports_dir=tmp_path / "reports", quiet_seconds=0, demo=True)


def data_files(folder):
    return sorted(p.name for p in folder.iterdir() if p.is_file())


def test_a_department_folder_refusing_writes_publishes_nothing_and_loses_no_report(world, clean, monkeypatch):
    health = world.landing / "health"
    published = world.warehouse.read_bytes()
    with monkeypatch.context() as refused:
        refuse_under(refused, health, code=errno.EACCES)
        outcome = run_pipeline(world)

    assert not outcome.success
    [check] = outcome.failed_checks
    assert check.startswith("ingest/health:every_row_accounted_for")
    assert f"could not be written into {health / '_reports'} (Permission denied)" in check
    assert "write access" in check and "run again" in check
    assert world.warehouse.read_bytes() == published  # the January warehouse, whole
    assert not list(world.warehouse.parent.glob("*.publishing"))
    assert not (health / "_reports").exists()
    waiting = reports.pending_reports(world.state, world.landing, "health")
    assert sorted(p.file_name for p in waiting) == data_files(health)  # not one report dropped
    assert len(list((world.landing / "water" / "_reports").glob("*.txt"))) == len(data_files(world.landing / "water"))

    outcome = run_pipeline(world)  # the folder takes writes again

    assert outcome.success, outcome.failed_steps + outcome.failed_checks
    assert reports.pending_reports(world.state, world.landing, "health") == []
    assert sorted(p.name for p in (health / "_reports").glob("*.txt")) == [f"{n}.txt" for n in data_files(health)]
    assert content(world.warehouse) == clean


def test_a_read_only_landing_through_the_cli_is_a_message_not_a_stack_trace(world, monkeypatch):
    published = world.warehouse.read_bytes()
    monkeypatch.setattr(pipelines.cli, "console", Console(stderr=True, width=1000))
    for name, value in {"HEARTH_DEMO": "1", "HEARTH_QUIET_SECONDS": "0"}.items():
        monkeypatch.setenv(name, value)
    refuse_under(monkeypatch, world.landing, code=errno.EROFS)

    result = CliRunner().invoke(pipelines.cli.app, ["run", "--landing", str(world.landing),
                                                    "--warehouse", str(world.warehouse)])

    output = " ".join(result.output.split())
    assert result.exit_code == 1, output
    assert "Traceback" not in output and isinstance(result.exception, SystemExit)
    for department in ("education", "health", "housing", "water", "civil_affairs"):
        assert (f"ingest/{department}:every_row_accounted_for: " in output
                and f"{world.landing / department / '_reports'} (Read-only file system)" in output)
    assert "write access" in output and "The warehouse was not published" in output
    assert "wait" in output and str(world.state / reports.PENDING_FOLDER) in output
    assert world.warehouse.read_bytes() == published


def test_a_department_folder_that_cannot_be_read_says_so_and_the_next_run_catches_up(world, clean, monkeypatch):
    water = world.landing / "water"
    published = world.warehouse.read_bytes()
    with monkeypatch.context() as refused:
        refuse_under(refused, water, writes=False, reads=True)
        outcome = run_pipeline(world)

    assert not outcome.success
    [step] = outcome.failed_steps
    assert step.startswith("ingest__water") or step.startswith("ingest_water"), step
    assert f"Cannot read the landing folder {water} (Permission denied)" in step
    assert "read and write access" in step and "published warehouse is unchanged" in step
    retries = [e for e in outcome.result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retries == []  # a permission does not come back by itself in a few seconds
    assert world.warehouse.read_bytes() == published

    outcome = run_pipeline(world)

    assert outcome.success, outcome.failed_steps + outcome.failed_checks
    assert content(world.warehouse) == clean
