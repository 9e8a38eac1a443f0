"""The benchmark harness end to end at a tiny size: every phase runs and the JSON has every field.

No timed assertions: the figures of a tiny drop on a shared machine mean nothing.
"""

import json

import pytest

import polars as pl
from polars.testing import assert_frame_equal

from bench import harness, phases, readme

HOUSEHOLDS = 80
PROCESS_FIELDS = {"exit_code", "wall_seconds", "cpu_seconds", "user_seconds", "sys_seconds", "peak_rss_mb"}
SUMMARY_FIGURES = {
    "synth_seconds", "synth_cpu_seconds", "synth_peak_rss_mb", "rows",
    "ingest_seconds", "ingest_cpu_seconds", "ingest_rows", "ingest_rows_per_second", "ingest_peak_rss_mb",
    "plain_read_csv_seconds", "plain_read_all_seconds", "ingest_vs_plain_read_ratio", "ingest_vs_plain_read_ratio_csv",
    "ingest_workers",
    "ingest_vs_plain_read_ratio_all", "ingest_vs_plain_read_cpu_ratio", "ingest_vs_plain_read_cpu_ratio_all",
    "ingest_floor_seconds", "ingest_floor_vs_plain_read_ratio",
    "linkage_seconds", "linkage_cpu_seconds", "linkage_peak_rss_mb", "linkage_records",
    "warehouse_seconds", "warehouse_cpu_seconds", "warehouse_build_seconds", "warehouse_publish_seconds",
    "warehouse_peak_rss_mb", "e2e_seconds", "e2e_cpu_seconds", "e2e_peak_rss_mb", "person_f1", "household_f1",
}
LINKAGE_STAGES = {"normalise", "block", "compare", "score", "cluster", "households"}
#: Every phase but `counties`: it starts a Dagster run of a dozen step processes, which costs
#: a minute however small the drop; tests/pipelines/test_county_partitions.py runs the same job.
SMOKE_PHASES = [name for name in harness.PHASES if name != "counties"]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bench")
    out = folder / "results.json"
    harness.main(["--sizes", str(HOUSEHOLDS), "--out", str(out), "--keep", str(folder / "work"),
                  "--label", "smoke test", "--phases", ",".join(SMOKE_PHASES)])
    return out


@pytest.mark.slow
def test_results_describe_machine_and_commit(bench_run):
    results = json.loads(bench_run.read_text())
    assert {"date", "label", "machine", "git", "seed", "sizes", "phases", "targets", "runs", "finished"} <= set(results)
    machine = results["machine"]
    assert machine["cores"] >= 1 and machine["memory_gb"] > 0 and machine["cpu_model"]
    assert len(machine["load_average_start"]) == 3 and len(machine["load_average_end"]) == 3
    assert len(results["git"]["commit"]) == 40 and isinstance(results["git"]["dirty"], bool)
    assert results["sizes"] == [HOUSEHOLDS] and results["phases"] == SMOKE_PHASES


@pytest.mark.slow
def test_every_phase_ran_in_its_own_measured_process(bench_run):
    run = json.loads(bench_run.read_text())["runs"][0]
    assert run["households"] == HOUSEHOLDS
    assert set(run["phases"]) == set(SMOKE_PHASES)
    for name, phase in run["phases"].items():
        assert PROCESS_FIELDS <= set(phase["process"]), name
        assert phase["process"]["peak_rss_mb"] > 0, name
    for name in ("synth", "plain_read", "ingest", "linkage"):
        assert run["phases"][name]["ok"], (name, run["phases"][name].get("error"))
    # hearth run may fail a blocking check on so small a drop; it must still have run and staged its linkage
    assert run["phases"]["e2e"]["staged_linkage"]


@pytest.mark.slow
def test_every_figure_is_present(bench_run):
    run = json.loads(bench_run.read_text())["runs"][0]
    summary = run["summary"]
    missing = {name for name in SUMMARY_FIGURES if summary.get(name) is None}
    assert not missing
    assert LINKAGE_STAGES <= set(summary["linkage_stage_seconds"])
    assert all(summary["linkage_stage_peak_rss_mb"][stage] for stage in LINKAGE_STAGES)
    assert set(summary["targets"]) == set(harness.TARGETS)
    assert {"csv", "all"} <= set(run["phases"]["ingest"]["by_format"]) & set(run["phases"]["plain_read"]["by_format"])
    assert run["phases"]["ingest"]["rows_read"] == summary["ingest_rows"] > 0


@pytest.mark.slow
def test_markdown_table_is_written_and_pasted(bench_run, tmp_path):
    table = bench_run.with_suffix(".md").read_text()
    assert f"{HOUSEHOLDS} households" in table and "linkage" in table and "smoke test" in table
    target = tmp_path / "README.md"
    target.write_text("# Project\n\nIntro.\n")
    readme.main(["--results", str(bench_run), "--readme", str(target)])
    pasted = target.read_text()
    assert pasted.startswith("# Project\n\nIntro.\n\n## Benchmarks")
    assert table.strip() in pasted


def test_readme_block_is_replaced_and_nothing_else():
    text = f"# T\n\n## Benchmarks\n\n{readme.START}\nold\n{readme.END}\n\n## After\n"
    assert readme.replace_block(text, "new") == f"# T\n\n## Benchmarks\n\n{readme.START}\nnew\n{readme.END}\n\n## After\n"


def test_readme_section_is_appended_when_markers_are_missing():
    replaced = readme.replace_block("# T\n\nBody.\n", "table")
    assert replaced.startswith("# T\n\nBody.\n\n## Benchmarks\n")
    assert replaced.endswith(f"{readme.START}\ntable\n{readme.END}\n")


def test_prerequisites_are_added_in_run_order():
    assert harness.phases_with_prerequisites(["warehouse"]) == ["synth", "e2e", "warehouse"]
    assert harness.phases_with_prerequisites(["linkage", "synth"]) == ["synth", "ingest", "linkage"]


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_ingestion_floor_writes_every_row_of_the_file_as_read(tmp_path, encoding):
    csv = tmp_path / "529901_20260105.csv"
    csv.write_bytes("姓名,证件号码,金额\n张三,529901199001011234,12.50\n李四,,\n".encode(encoding))
    out = tmp_path / "floor" / "out.parquet"
    assert phases.ingestion_floor(csv, out) == 2
    written = pl.read_parquet(out)
    assert_frame_equal(written, phases.plain_read(csv))
    if encoding == "utf-8":  # the GB18030 file is read lossily, as the plain read it is compared to
        assert written.row(0) == ("张三", "529901199001011234", "12.50")
    # the value as read beside its normalised value: the text written twice
    assert phases.ingestion_floor(csv, out, copies=2) == 2
    twice = pl.read_parquet(out)
    assert twice.width == 6
    for half in (twice[:, :3], twice[:, 3:]):
        assert_frame_equal(half.rename(dict(zip(half.columns, written.columns))), written)
