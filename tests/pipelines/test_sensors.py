"""Folder sensors evaluated for real with build_sensor_context."""

import json
import os
import time

import dagster as dg
import pytest

from pipelines.ingest.sensors import INGEST_JOBS, build_folder_sensor
from pipelines.resources import HearthResource

CSV = "学籍号,学生姓名,身份证号\nE1,王芳,52990120120101002X\n"


def _evaluate(sensor, landing, cursor=None, quiet=5.0):
    hearth = HearthResource(data_dir=str(landing.parent), landing_dir=str(landing), quiet_seconds=quiet)
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"hearth": hearth})
        result = sensor(context)
    return result


@pytest.fixture
def landing(tmp_path):
    (tmp_path / "landing" / "education").mkdir(parents=True)
    return tmp_path / "landing"


def _age(path, seconds):
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def _settled(landing, name, text=CSV):
    """An education file written a minute ago: ready at the next tick."""
    path = landing / "education" / name
    path.write_text(text, encoding="utf-8")
    _age(path, 60)
    return path


def test_new_same_and_changed_file(landing, monkeypatch):
    sensor = build_folder_sensor("education", INGEST_JOBS["education"])
    path = _settled(landing, "529901_20260105.csv")

    first = _evaluate(sensor, landing)
    assert len(first.run_requests) == 1
    assert first.run_requests[0].run_key.startswith("education/529901_20260105.csv@")

    again = _evaluate(sensor, landing, cursor=first.cursor)
    assert again.run_requests == []

    path.write_text(CSV + "E2,李四,\n", encoding="utf-8")
    _age(path, 30)
    # A file that changed since the last tick must be quiet again before it is read...
    settling = _evaluate(sensor, landing, cursor=again.cursor)
    assert settling.run_requests == []
    # ...and then starts exactly one run.
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 6)
    changed = _evaluate(sensor, landing, cursor=settling.cursor)
    assert len(changed.run_requests) == 1
    assert _evaluate(sensor, landing, cursor=changed.cursor).run_requests == []
    assert changed.run_requests[0].run_key != first.run_requests[0].run_key


def test_half_written_file_waits_then_runs(landing, monkeypatch):
    sensor = build_folder_sensor("education", INGEST_JOBS["education"])
    path = landing / "education" / "529901_20260105.csv"
    path.write_text(CSV[:20], encoding="utf-8")  # still being copied: fresh and changing

    first = _evaluate(sensor, landing, quiet=10)
    assert first.run_requests == []
    assert "waiting" in str(first.skip_reason)

    # Ten seconds later, unchanged: now it is ready.
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 11)
    later = _evaluate(sensor, landing, cursor=first.cursor, quiet=10)
    assert len(later.run_requests) == 1


def test_reports_and_hidden_files_start_nothing(landing):
    sensor = build_folder_sensor("education", INGEST_JOBS["education"])
    (landing / "education" / "_reports").mkdir()
    (landing / "education" / "_reports" / "x.txt").write_text("report")
    (landing / "education" / "x.csv.part").write_text(CSV)
    result = _evaluate(sensor, landing)
    assert result.run_requests == []
    assert json.loads(result.cursor)["requested"] == {}


def test_a_folder_that_cannot_be_read_skips_with_a_reason_and_keeps_the_cursor(landing, monkeypatch):
    import errno

    sensor = build_folder_sensor("education", INGEST_JOBS["education"])
    _settled(landing, "529901_20260105.csv")
    first = _evaluate(sensor, landing)
    assert len(first.run_requests) == 1

    real_scandir = os.scandir

    def refuse(folder):
        if str(folder).startswith(str(landing)):
            raise PermissionError(errno.EACCES, "Permission denied", str(folder))
        return real_scandir(folder)

    with monkeypatch.context() as refused:  # tests run as root, where chmod stops nothing
        refused.setattr(os, "scandir", refuse)
        blocked = _evaluate(sensor, landing, cursor=first.cursor)
    assert blocked.run_requests == []
    assert blocked.cursor == first.cursor
    reason = blocked.skip_reason.skip_message
    assert f"Cannot read the landing folder {landing / 'education'}" in reason
    assert "Permission denied" in reason and "read access" in reason

    # Readable again: the file already requested starts nothing; a new one starts one run.
    _settled(landing, "529902_20260105.csv")
    back = _evaluate(sensor, landing, cursor=blocked.cursor)
    assert [r.tags["hearth/file"] for r in back.run_requests] == ["education/529902_20260105.csv"]
