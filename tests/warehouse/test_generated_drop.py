"""The whole pipeline on a generated drop: lead quality against the ground truth, and the README's queries.

One run (ingest, link, build, publish) serves both: the README's example queries
(between ``<!-- query:NAME -->`` markers in the "Asking the warehouse" section)
must run as written on a real warehouse, so the README cannot rot.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.run import run_pipeline
from pipelines.settings import HearthSettings
from warehouse.quality import rule_quality
from warehouse.readme_examples import queries, refresh, render

README = Path(__file__).resolve().parents[2] / "README.md"

#: On 300 households a rule has 5-60 true failures: one linkage or quarantine miss moves a rule by
#: several points. The 0.98 target is measured on 2,000 households (docs/warehouse-quality.md).
FLOOR = 0.9


@pytest.fixture(scope="module")
def published(tmp_path_factory, synth_drop) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("drop")
    landing = root / "landing"
    shutil.copytree(synth_drop, landing, copy_function=shutil.copy2)
    settings = HearthSettings(data_dir=root / "data", landing_dir=landing, quiet_seconds=0, demo=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HEARTH_DEMO", "1")
        patch.delenv("HEARTH_PSEUDONYM_KEY", raising=False)
        run_pipeline(settings)
    assert settings.warehouse.exists()
    return settings.warehouse, landing / "_truth"


def test_rule_hits_match_the_ground_truth(published):
    warehouse, truth = published
    quality = rule_quality(warehouse, truth)
    assert set(quality) == {"education", "insurance", "medical_burden", "housing", "water", "income"}
    low = {r: (round(q.precision, 3), round(q.recall, 3)) for r, q in quality.items()
           if min(q.precision, q.recall) < FLOOR}
    assert not low, low
    hits = sum(q.true_positives for q in quality.values())
    errors = sum(q.false_positives + q.false_negatives for q in quality.values())
    assert errors / hits < 0.03


def readme_queries() -> dict[str, str]:
    return queries(README.read_text(encoding="utf-8"))


def test_the_readme_has_its_example_queries():
    assert {"fail_today", "fail_by_rule", "entered_this_month", "exit_candidates", "one_household",
            "at_risk_on"} <= set(readme_queries())


@pytest.mark.parametrize("name", sorted(readme_queries()))
def test_every_readme_query_runs_on_a_built_warehouse(published, name):
    sql = readme_queries()[name]
    assert re.search(r"\b(core|monitor|ops|restricted)\.", sql) is None, "README queries use the analyst schema only"
    with duckdb.connect(str(published[0]), read_only=True) as conn:
        result = conn.sql(sql)
        assert result.columns
        result.fetchall()


def test_readme_outputs_are_rewritten_from_the_warehouse(published):
    readme = README.read_text(encoding="utf-8")
    with duckdb.connect(str(published[0]), read_only=True) as conn:
        text, refreshed = refresh(readme, conn)
        again, _ = refresh(text, conn)
        expected = render(conn, queries(readme)["fail_by_rule"])
    assert set(refreshed) == set(queries(readme))  # every example has an output block
    assert expected.strip() in text and again == text
    assert queries(text) == queries(readme)  # the queries themselves untouched
    examples = re.compile(r"<!-- query:.*?```text\n.*?```", re.S)
    assert examples.split(text) == examples.split(readme)  # nothing outside the examples changed
