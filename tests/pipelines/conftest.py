"""A whole-graph run on a generated drop, shared by the pipeline tests."""

import shutil

import pytest

from pipelines.run import run_pipeline
from pipelines.settings import HearthSettings

#: A real (non-demo) key, so tests can check it never leaks anywhere.
TEST_KEY = "test-secret-9f2c1e7a4b"


def _settings(tmp_path, landing, **extra) -> HearthSettings:
    return HearthSettings(data_dir=tmp_path / "data", landing_dir=landing, quiet_seconds=0, **extra)


@pytest.fixture(scope="session")
def first_run(tmp_path_factory, synth_drop):
    root = tmp_path_factory.mktemp("graph")
    landing = root / "landing"
    shutil.copytree(synth_drop, landing, copy_function=shutil.copy2)
    settings = _settings(root, landing)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HEARTH_PSEUDONYM_KEY", TEST_KEY)
        outcome = run_pipeline(settings)
    return settings, outcome


@pytest.fixture
def with_key(monkeypatch) -> str:
    monkeypatch.setenv("HEARTH_PSEUDONYM_KEY", TEST_KEY)
    return TEST_KEY
