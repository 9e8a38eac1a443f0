"""The HTML run report: sections, charts, no identifiers, file mode, partial warehouses, a real browser."""

from __future__ import annotations

import csv
import re
import stat
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import polars as pl
import pytest

from sources.registry import StateDir, register
from warehouse.build import RunInfo, build_warehouse
from warehouse.privacy import PseudonymKey
from warehouse.run_report import GAZETTEER, SECTIONS, write_run_report
from wh_factory import World

JAN, FEB = date(2024, 1, 31), date(2024, 2, 29)
SECRET_ID, SECRET_PHONE, SECRET_NAME = "52990119800101123X", "13812345678", "王小芳"
ID_SHAPE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
PHONE_SHAPE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
CHROMIUM = Path("/usr/bin/chromium")
TEST_KEY = PseudonymKey(b"run-report-test-key-0123")


def villages_in_distinct_townships(n: int) -> list[tuple[str, str]]:
    """(village_code, township) of the first village of ``n`` townships in the shipped gazetteer."""
    seen: dict[str, str] = {}
    with open(GAZETTEER, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            seen.setdefault(row["township"], row["village_code"])
    return [(code, township) for township, code in list(seen.items())[:n]]


VILLAGES = villages_in_distinct_townships(3)
COUNTY = VILLAGES[0][0][:6]


def world(snapshots: tuple[date, ...]) -> World:
    """Six households in three townships; rules fire for education, insurance and income."""
    w = World()
    for i in range(1, 7):
        w.household(f"H{i}", village=VILLAGES[i % 3][0])
    for snapshot in snapshots:
        later = snapshot == FEB
        w.add("education", snapshot, "E1", "P1", "H1", county=COUNTY, birth_date=date(2012, 5, 1),
              status="在读" if later else "辍学")
        for i in range(1, 7):
            uninsured = (i == 2 and not later) or (i in (4, 5) and later)
            w.add("health", snapshot, f"M{i}", f"P{i}", f"H{i}", county=COUNTY,
                  insured="未参保" if uninsured else "已参保")
        w.add("civil_affairs", snapshot, "C3", "P3", "H3", county=COUNTY, per_capita_income=5000.0)
    for i, link in enumerate(w.links):
        if i % 2:
            link.update(method="probabilistic", match_weight=2.0 + 1.3 * i)
    return w


def lineage() -> pl.DataFrame:
    rows = [("household", f"H{i}", "created", None, JAN, "new cluster") for i in range(1, 7)]
    rows += [("household", "H7", "split", "H3", FEB, "split off H3 (1 of its members)"),
             ("household", "H3", "kept", "H7", FEB, "kept"),
             ("household", "H5", "merged", "H4", FEB, "merged into H4 (the older id is kept)")]
    return pl.DataFrame(rows, schema=["entity", "id", "event", "other_id", "snapshot_date", "reason"], orient="row")


def quarantine() -> pl.DataFrame:
    raw = f'{{"姓名": "{SECRET_NAME}", "身份证号": "{SECRET_ID}", "联系电话": "{SECRET_PHONE}"}}'
    return pl.DataFrame({
        "department": ["health", "health", "education"], "file_id": [f"hea{COUNTY}20240229"] * 2 + [f"edu{COUNTY}20240229"],
        "file_name": [f"{COUNTY}_20240229.csv"] * 3, "row_number": pl.Series([9, 12, 4], dtype=pl.Int32),
        "field": ["record_id", None, "name"],
        "reason": ["missing required value", "exact duplicate of row 3", "missing required value"],
        "raw_row": [raw] * 3})


def state_dir(root: Path, w: World) -> StateDir:
    """A registry for the world's files (one quarantined row each), an unreadable and a duplicate file."""
    state = StateDir(root)
    arrived = datetime(2024, 3, 1, 8, tzinfo=timezone.utc)
    for department, rows in w.rows.items():
        for file_id in dict.fromkeys(r["file_id"] for r in rows):
            mine = [r for r in rows if r["file_id"] == file_id]
            extra = 2 if department == "health" and mine[0]["snapshot_date"] == FEB else 0
            register(state, {"file_id": file_id, "department": department, "file_name": mine[0]["file_name"],
                             "first_seen": arrived, "extract_date": mine[0]["snapshot_date"], "counties": [COUNTY],
                             "status": "ingested", "rows_read": len(mine) + extra + 1, "rows_accepted": len(mine),
                             "rows_quarantined": extra, "blank_rows": 1})
    register(state, {"file_id": "badbadbadbadbad0", "department": "water", "file_name": f"{COUNTY}_20240229.xlsx",
                     "first_seen": arrived, "status": "unreadable",
                     "reason": "the file is not a readable Excel workbook"})
    register(state, {"file_id": f"hea{COUNTY}20240229", "department": "health", "file_name": "copy of health.csv",
                     "first_seen": arrived, "status": "duplicate", "reason": f"same content as {COUNTY}_20240229.csv"})
    for (department, file_id), part in quarantine().group_by("department", "file_id"):
        path = state.quarantine_path(department, file_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        part.write_parquet(path)
    return state


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """(html, path) of a report over a two-snapshot warehouse compared with a one-snapshot one (built once)."""
    root = tmp_path_factory.mktemp("report")
    now = world((JAN, FEB))
    state = state_dir(root / "state", now)
    registry = pl.read_parquet(state.registry_path)
    previous = build_warehouse(world((JAN,)).inputs(registry=registry), root / "previous.duckdb", RunInfo("run-1"),
                               key=TEST_KEY)
    current = build_warehouse(now.inputs(id_lineage=lineage(), quarantine=quarantine(), registry=registry),
                              root / "current.duckdb", RunInfo("run-2"), key=TEST_KEY)
    out = write_run_report(current.path, state.root, root / "reports" / "run-2.html", run_id="run-2",
                           previous_warehouse=previous.path,
                           run_info={"started_at": datetime(2024, 3, 1, 1, 30, tzinfo=timezone.utc),
                                     "triggered_by": "schedule", "success": True,
                                     "checks": [{"name": "accounting balanced", "passed": True, "detail": ""}]})
    return out.read_text(encoding="utf-8"), out


def test_every_section_is_present_with_charts_and_no_scripts(report):
    html, _ = report
    for zh, en in SECTIONS.values():
        assert zh in html and en in html
    assert "此部分暂不可用" not in html
    assert html.count("<svg") >= 5  # rows, quarantine, households, match weights, townships
    assert "<script" not in html.lower()
    # nothing fetched: no external sources or stylesheets (the SVG namespace is an identifier, not a fetch)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html


def test_sections_show_the_numbers(report):
    html, _ = report
    for township in (t for _, t in VILLAGES):
        assert township in html
    for text in ("义务教育保障", "基本医疗保险", "收入",      # rule titles from monitor.rule
                 "教育局", "医保局", "民政局",             # departments
                 "缺少必填项", "完全重复的行",             # quarantine reasons, grouped without row numbers
                 "无法读取", "the file is not a readable Excel workbook", "重复文件",
                 "分户", "新进入监测名单", "上次", "本次",
                 f"{COUNTY}_20240229.csv", "run-2", "schedule", "2024-03-01 09:30"):
        assert text in html, text
    assert "exact duplicate of row" not in html


def test_no_raw_identifiers(report):
    html, _ = report
    assert not ID_SHAPE.search(html)
    assert not PHONE_SHAPE.search(html)
    for secret in (SECRET_ID, SECRET_PHONE, SECRET_NAME, "P1", "H1<", ">H1"):
        assert secret not in html


def test_file_mode_is_0640(report):
    _, path = report
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_free_text_is_scrubbed(tmp_path: Path):
    out = write_run_report(tmp_path / "missing.duckdb", tmp_path / "state", tmp_path / "r.html", run_id="r",
                           run_info={"checks": [{"name": "leak", "passed": False,
                                                 "detail": f"found {SECRET_ID} and {SECRET_PHONE}"}]})
    html = out.read_text(encoding="utf-8")
    assert "5299**********123X" in html and "138****5678" in html
    assert not ID_SHAPE.search(html) and not PHONE_SHAPE.search(html)


def test_missing_warehouse_or_tables_make_sections_unavailable(tmp_path: Path):
    w = world((JAN,))
    state = state_dir(tmp_path / "state", w)
    no_warehouse = write_run_report(tmp_path / "missing.duckdb", state.root, tmp_path / "a.html", run_id="a")
    html = no_warehouse.read_text(encoding="utf-8")
    for zh, _ in SECTIONS.values():
        assert zh in html
    assert "此部分暂不可用" in html
    assert "缺少必填项" in html  # quarantine falls back to the state directory
    assert f"{COUNTY}_20240131.csv" in html  # files come from the registry

    partial = tmp_path / "partial.duckdb"
    with duckdb.connect(str(partial)) as conn:
        conn.execute("CREATE SCHEMA core")
        conn.execute("CREATE TABLE core.record_link (department VARCHAR, record_id VARCHAR, snapshot_date DATE, "
                     "person_id VARCHAR, household_id VARCHAR, match_weight DOUBLE, method VARCHAR)")
        conn.execute("INSERT INTO core.record_link VALUES ('health', 'M1', DATE '2024-01-31', 'p', 'h', 7.5, "
                     "'probabilistic'), ('health', 'M2', DATE '2024-01-31', 'q', 'h', NULL, 'id_exact')")
    html = write_run_report(partial, state.root, tmp_path / "b.html", run_id="b",
                            previous_warehouse=tmp_path / "gone.duckdb").read_text(encoding="utf-8")
    assert html.count("此部分暂不可用") == 1  # rule hits by township: no monitor tables yet
    assert "monitor.rule_hit" in html
    assert "<svg" in html  # households and weights still drawn
    assert "上次运行的仓库文件不存在" in html


def test_empty_state_and_empty_warehouse(tmp_path: Path, build):
    result, conn = build(World(), name="empty")
    conn.close()
    html = write_run_report(result.path, tmp_path / "state", tmp_path / "e.html", run_id="e").read_text(encoding="utf-8")
    assert "还没有登记任何文件" in html and "没有被隔离的行" in html and "本次没有任何风险规则命中" in html
    assert "此部分暂不可用" not in html


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")
def test_renders_in_headless_chromium(report, tmp_path: Path):
    _, path = report
    png = tmp_path / "report.png"
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", f"--screenshot={png}",
                    "--window-size=1200,2400", path.as_uri()], check=True, capture_output=True, timeout=120)
    assert png.stat().st_size > 20_000
