"""The atheris targets (``fuzz/``) in every ``make test``: each input the fuzzer ever crashed on is
replayed (it must keep the contract now), the seeds pass, and a short real atheris run."""

from __future__ import annotations

import importlib.util
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from fuzz import targets
from fuzz.__main__ import limit_memory
from sources.readers import UnreadableFile, read_table_bytes

FUZZ = Path(targets.__file__).parent
REGRESSIONS = sorted((FUZZ / "regressions").glob("*/*"))
#: inputs of the smoke run: about 4 s of fuzzing on the shared 2-core box, plus 4-5 s to start.
SMOKE_RUNS = 200


def test_every_target_has_seeds_and_every_kept_input_a_target():
    assert set(targets.seeds()) == set(targets.TARGETS)
    assert REGRESSIONS and {path.parent.name for path in REGRESSIONS} <= set(targets.TARGETS)


REPLAY = """
import sys
from pathlib import Path
from fuzz import targets
for name in sys.argv[1:]:
    path = Path(name)
    targets.TARGETS[path.parent.name](path.read_bytes())
    print("kept its contract:", path.parent.name, path.name, flush=True)
"""


def test_inputs_that_once_broke_a_target_keep_its_contract():
    # in a child with limited address space: some of these once made calamine fill 14 GB of memory
    env = os.environ | {"PYTHONPATH": str(FUZZ.parent), "POLARS_MAX_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", REPLAY, *map(str, REGRESSIONS)], env=env, capture_output=True,
                          text=True, errors="replace", timeout=600, preexec_fn=limit_memory)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert done.stdout.count("kept its contract") == len(REGRESSIONS)


@pytest.mark.parametrize("name", list(targets.TARGETS))
def test_seeds_keep_the_contract(name):
    for seed in targets.seeds()[name]:
        targets.TARGETS[name](seed)


def test_a_parquet_file_that_makes_polars_panic_is_reported_as_damaged():
    # polars panics (pyo3's PanicException is a BaseException) on this damaged dictionary page: before,
    # it went through every `except Exception` and failed the whole ingest step, file after file.
    data = (FUZZ / "regressions" / "parquet" / "dictionary-page-rust-panic").read_bytes()[1:]
    with pytest.raises(UnreadableFile) as raised:
        read_table_bytes(data, "529901_20260105.parquet")
    assert "damaged" in raised.value.reason_en and raised.value.reason_zh


def test_a_contract_break_is_found():
    # the harness itself: a reader returning a non-text column must be caught
    with pytest.raises(targets.ContractBroken):
        targets.table_or_report(lambda data: targets.RawTable(
            frame=pl.DataFrame({"a": [1]}), header_row=1, first_data_row=2, encoding=None), b"")


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is a Linux dev dependency")
def test_a_short_atheris_run_of_every_target_finds_nothing(tmp_path):
    env = os.environ | {"POLARS_MAX_THREADS": "1", "PYTHONPATH": str(FUZZ.parent)}
    done = subprocess.run(
        [sys.executable, "-m", "fuzz.run_target", "any", f"-runs={SMOKE_RUNS}", "-seed=1", "-max_len=32768",
         "-timeout=120", f"-artifact_prefix={tmp_path}/", str(tmp_path / "corpus")],
        env=env, capture_output=True, text=True, errors="replace", timeout=600, preexec_fn=limit_memory)
    assert done.returncode == 0, done.stderr[-4000:]
    assert re.search(rf"Done {SMOKE_RUNS} runs", done.stderr), done.stderr[-2000:]
    # every target's seeds and kept inputs were in the corpus it started from
    started = {p.name.split("-")[1] for p in (tmp_path / "corpus").glob("seed-*")}
    assert started == set(targets.TARGETS)


HEADER = "记录编号,姓名,身份证号\n"


def test_a_quote_inside_an_unquoted_cell_is_text_as_in_excel():
    # polars refused the whole file (ComputeError); Excel and the header search read the quote as text
    table = read_table_bytes((HEADER + '0001,王"芳,52990119800101002X\n0002,李四,\n').encode(), "q.csv")
    assert table.frame.rows() == [("0001", '王"芳', "52990119800101002X"), ("0002", "李四", None)]


def test_a_quoted_cell_that_never_closes_is_reported_at_its_line():
    # read leniently, every row after line 3 would have become one cell
    data = (HEADER + '0001,王芳,1\n0002,"李四,2\n0003,张三,3\n').encode()
    with pytest.raises(UnreadableFile) as raised:
        read_table_bytes(data, "q.csv")
    assert "Line 3" in raised.value.reason_en and "第 3 行" in raised.value.reason_zh


def test_lower_case_or_row_only_references_far_out_are_reported_too():
    # calamine reads "dalonA6" as a column some 10 GB of grid to the right (found by atheris)
    for far in (b'<row r="7"><c r="dalonA6"><v>1</v></c></row>', b'<row r="99999999"><c><v>1</v></c></row>'):
        members = dict(targets.xlsx_template())
        members[targets.SHEET] = members[targets.SHEET].replace(b"</sheetData>", far + b"</sheetData>")
        with pytest.raises(UnreadableFile):
            read_table_bytes(targets.zip_of(members), "529901_20260105.xlsx")


def test_a_stray_value_in_the_last_excel_cell_is_reported_not_an_abort():
    # calamine holds a sheet as a dense grid: XFD1048576 asked for 549 GB and aborted the process
    members = dict(targets.xlsx_template())
    members[targets.SHEET] = members[targets.SHEET].replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')
    with pytest.raises(UnreadableFile) as raised:
        read_table_bytes(targets.zip_of(members), "529901_20260105.xlsx")
    assert "XFD1048576" in raised.value.reason_en and "Ctrl+End" in raised.value.hint_en


def test_parquet_bytes_columns_are_read_as_utf8_or_gb18030_text():
    # a legacy export's GBK strings stored as bytes: polars' cast failed and the file was refused
    frame = pl.DataFrame({"姓名": ["王芳".encode("gb18030"), None], "身份证号": [b"52990119800101002X", b"x"]})
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    table = read_table_bytes(buffer.getvalue(), "529901_20260105.parquet")
    assert table.frame.rows() == [("王芳", "52990119800101002X"), (None, "x")]

    buffer = io.BytesIO()
    frame.with_columns(pl.lit(b"\xff\xfe\xff").alias("姓名")).write_parquet(buffer)
    with pytest.raises(UnreadableFile) as raised:
        read_table_bytes(buffer.getvalue(), "529901_20260105.parquet")
    assert "姓名" in raised.value.reason_en and "GB18030" in raised.value.reason_zh
