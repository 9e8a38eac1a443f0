"""A disk that fills up while publishing: a clear error, no partial publish."""

import errno
import shutil

import warehouse.publish
from pipelines.run import run_pipeline


def test_disk_full_while_publishing_keeps_the_previous_warehouse(first_run, with_key, tmp_path, monkeypatch):
    settings, _ = first_run
    shutil.copytree(settings.landing, tmp_path / "landing")
    shutil.copytree(settings.data_dir, tmp_path / "data")
    copy = settings.model_copy(update={"data_dir": tmp_path / "data", "landing_dir": tmp_path / "landing"})
    published = copy.warehouse.read_bytes()
    shutil.rmtree(copy.state / "linkage")  # force a new build and a new publish

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(warehouse.publish.shutil, "copyfileobj", no_space)
    outcome = run_pipeline(copy)

    assert not outcome.success
    assert any("No space left on device" in step for step in outcome.failed_steps), outcome.failed_steps
    assert copy.warehouse.read_bytes() == published  # the previous warehouse, whole
    assert not list(copy.warehouse.parent.glob("*.publishing"))  # no partial copy left behind
