"""The HTML run report: one self-contained page a county official reads without SQL.

``write_run_report`` reads the built warehouse (read-only), the file registry
of the state directory and, when given, the previous published warehouse, and
writes one HTML file with inline CSS and inline SVG charts (``warehouse.charts``):
no JavaScript, nothing fetched, so it opens offline in any browser.

The page holds counts, file names, township names and rule titles only. Raw
identifiers never reach it: no query selects a name, ID number or phone, and
every piece of free text (reasons, check details) goes through ``scrub``
before it is written, in case an upstream message quotes a value.

Parts of the warehouse land at different times, so each section is built on
its own: a missing table or a missing warehouse turns that section into an
"unavailable" note instead of failing the report.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from schemas.departments import DEPARTMENT_ZH, DEPARTMENTS, columns
from schemas.validate import CONFLICTING_RECORD_ID, DUPLICATE_ROW, MISSING_REQUIRED
from sources.registry import StateDir, current_files, load_registry
from warehouse.charts import PALETTE, hbar_chart, histogram

REPORT_MODE = 0o640
TIME_ZONE = ZoneInfo("Asia/Shanghai")
GAZETTEER = Path(__file__).resolve().parent.parent / "schemas" / "reference" / "villages.csv"

#: section key -> (Chinese heading, English sub-label); the order is the page's order.
SECTIONS: dict[str, tuple[str, str]] = {
    "summary": ("运行概况", "Run summary"),
    "files": ("各部门、各文件数据行数", "Rows per department and file"),
    "quarantine": ("隔离原因", "Quarantine reasons"),
    "households": ("各部门覆盖户数", "Households reached per department"),
    "match_weights": ("匹配权重分布", "Distribution of match weights"),
    "townships": ("各乡镇风险规则命中", "Rule hits by township"),
    "changes": ("与上次运行相比的变化", "Changes since the last run"),
}

FILE_STATUS_ZH = {"ingested": ("已入库", "ingested"), "unreadable": ("无法读取", "unreadable"),
                  "duplicate": ("重复文件", "duplicate")}
FILE_ROLE_ZH = {"current": ("当前", "current"), "history": ("历史", "history"), "superseded": ("已被替代", "superseded")}
REASON_ZH = {MISSING_REQUIRED: "缺少必填项", DUPLICATE_ROW: "完全重复的行",
             CONFLICTING_RECORD_ID: "记录编号重复但内容不同"}
METHOD_ZH = {"id_exact": ("身份证号一致", "same ID number"), "probabilistic": ("概率匹配", "probabilistic"),
             "household_evidence": ("户内证据", "household evidence"),
             "review_decision": ("人工核定", "review decision"), "singleton": ("未与他人关联", "singleton")}
LINEAGE_ZH = {"created": ("新建户", "new"), "split": ("分户", "split off"), "merged": ("合并（户编号停用）", "merged (ID ended)")}
LEAD_EVENT_ZH = {"entry": ("新进入监测名单", "entries"), "exit": ("风险消除", "exits"),
                 "exit_candidate": ("可考虑退出", "exit candidates")}

# Masks for values that look like identifiers, in any free text that reaches the page.
_ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10,13}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE_PATTERN = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def scrub(text: str) -> str:
    """Mask anything shaped like an ID number (15/18 chars) or a mobile number."""
    text = _ID_PATTERN.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 8) + m.group(2), text)
    return _PHONE_PATTERN.sub(r"\1****\2", text)


def _t(value: Any) -> str:
    """Escaped, scrubbed text for the page."""
    return escape(scrub("" if value is None else str(value)))


def _bi(zh: str, en: str) -> str:
    return f'{escape(zh)}<span class="en">{escape(en)}</span>'


def _n(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "—"


def _dept(department: str) -> str:
    return DEPARTMENT_ZH.get(department, department)


def _dept_cell(department: str) -> str:
    return _bi(_dept(department), department) if department in DEPARTMENT_ZH else _t(department)


def _table(headers: Iterable[tuple[str, str]], rows: Iterable[Iterable[str]], numeric: Iterable[int] = (),
           css: str = "") -> str:
    """``rows`` hold ready HTML; columns listed in ``numeric`` are right-aligned."""
    numeric = set(numeric)
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{_bi(zh, en)}</th>' for i, (zh, en) in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{cell}</td>' for i, cell in enumerate(row)) + "</tr>"
        for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _note(zh: str, en: str) -> str:
    return f'<p class="note">{escape(zh)}<span class="en">{escape(en)}</span></p>'


def _when(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(TIME_ZONE)
        return value.strftime("%Y-%m-%d %H:%M") + (" (北京时间)" if value.tzinfo is not None else "")
    if isinstance(value, date):
        return value.isoformat()
    return _t(value)


class Unavailable(Exception):
    """A section cannot be built from what exists yet (the message says why, bilingual)."""


# ---------------------------------------------------------------------------
# sources


@dataclass
class _Context:
    run_id: str
    run_info: dict
    state: StateDir
    registry: pl.DataFrame
    conn: duckdb.DuckDBPyConnection
    warehouse_error: str | None = None
    previous_error: str | None = None
    has_previous: bool = False
    _exists: dict[str, bool] = field(default_factory=dict)

    def rows(self, sql: str, params: list | None = None, *, database: str = "wh") -> list[tuple]:
        """Rows of a query over the warehouse (``database='prev'``: the previous one)."""
        if database == "wh" and self.warehouse_error:
            raise Unavailable(self.warehouse_error)
        if database == "prev" and not self.has_previous:
            raise Unavailable(self.previous_error or "没有上次运行的仓库 (no previous warehouse)")
        try:
            return self.conn.execute(sql.replace("{db}", database), params or []).fetchall()
        except duckdb.CatalogException as error:
            first_line = str(error).splitlines()[0]
            raise Unavailable(f"仓库中缺少该部分所需的数据表 (missing table: {first_line})") from error

    def scalar(self, sql: str, *, database: str = "wh") -> Any:
        return self.rows(sql, database=database)[0][0]

    def has(self, qualified: str, database: str = "wh") -> bool:
        key = f"{database}.{qualified}"
        if key not in self._exists:
            try:
                self.rows(f"SELECT 1 FROM {{db}}.{qualified} LIMIT 0", database=database)
                self._exists[key] = True
            except Unavailable:
                self._exists[key] = False
        return self._exists[key]


def _open(warehouse_path: Path, previous_warehouse: Path | None) -> tuple[duckdb.DuckDBPyConnection, str | None, str | None, bool]:
    """An in-memory connection with the warehouse attached read-only as ``wh`` (and ``prev``)."""
    conn = duckdb.connect()
    conn.execute(f"CREATE TEMP TABLE gazetteer AS SELECT * FROM read_csv('{_sql_path(GAZETTEER)}', all_varchar = true)")
    warehouse_error = previous_error = None
    if not Path(warehouse_path).exists():
        warehouse_error = "本次运行没有生成数据仓库 (no warehouse file for this run)"
    else:
        try:
            conn.execute(f"ATTACH '{_sql_path(warehouse_path)}' AS wh (READ_ONLY)")
        except duckdb.Error as error:
            warehouse_error = f"无法打开数据仓库 (cannot open the warehouse: {str(error).splitlines()[0]})"
    has_previous = False
    if previous_warehouse is not None:
        if not Path(previous_warehouse).exists():
            previous_error = "上次运行的仓库文件不存在 (previous warehouse file missing)"
        else:
            try:
                conn.execute(f"ATTACH '{_sql_path(previous_warehouse)}' AS prev (READ_ONLY)")
                has_previous = True
            except duckdb.Error as error:
                previous_error = f"无法打开上次的仓库 (cannot open the previous warehouse: {str(error).splitlines()[0]})"
    return conn, warehouse_error, previous_error, has_previous


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


# ---------------------------------------------------------------------------
# sections


def _summary(ctx: _Context) -> str:
    info = ctx.run_info
    run_row: dict[str, Any] = {}
    if ctx.has("ops.run"):
        found = ctx.rows("SELECT started_at, triggered_by, ruleset_version, demo_key FROM {db}.ops.run "
                         "ORDER BY started_at DESC NULLS LAST LIMIT 1")
        if found:
            run_row = dict(zip(("started_at", "triggered_by", "ruleset_version", "demo_key"), found[0]))
    checks = _checks(ctx)
    success = info.get("success")
    if success is None and checks:
        success = all(passed for _, passed, _ in checks)
    badge = {True: '<span class="badge ok">成功 <small>succeeded</small></span>',
             False: '<span class="badge bad">未通过 <small>failed</small></span>'}.get(
        success, '<span class="badge unknown">状态未知 <small>unknown</small></span>')

    registry = ctx.registry
    totals = {
        ("收到文件", "files received"): registry.height,
        ("读取行数", "rows read"): registry.get_column("rows_read").sum(),
        ("入库行数", "rows accepted"): registry.get_column("rows_accepted").sum(),
        ("隔离行数", "rows quarantined"): registry.get_column("rows_quarantined").sum(),
    }
    for label, qualified, sql in (
        (("关联户数", "households linked"), "core.household", "SELECT count(*) FROM {db}.core.household"),
        (("监测名单户数（最新）", "households on the lead list (latest)"), "monitor.lead",
         "SELECT count(*) FROM {db}.monitor.lead WHERE snapshot_date = (SELECT max(snapshot_date) FROM {db}.monitor.lead)"),
    ):
        totals[label] = ctx.scalar(sql) if not ctx.warehouse_error and ctx.has(qualified) else None
    cards = "".join(f'<div class="card"><div class="value">{_n(v)}</div><div class="label">{_bi(*k)}</div></div>'
                    for k, v in totals.items())

    facts = [
        (("运行编号", "run ID"), _t(ctx.run_id)),
        (("开始时间", "started"), _when(info.get("started_at") or run_row.get("started_at"))),
        (("结束时间", "finished"), _when(info.get("finished_at"))),
        (("触发方式", "triggered by"), _t(info.get("triggered_by") or run_row.get("triggered_by") or "—")),
        (("规则版本", "rules version"), _t(run_row.get("ruleset_version") or "—")),
        (("报告生成时间", "report written"), _when(info.get("generated_at") or datetime.now(TIME_ZONE))),
    ]
    if info.get("published") is not None:
        facts.append((("是否发布", "published"), "已发布 (published)" if info["published"]
                      else "未发布，仍使用上次发布的数据 (not published; the previous warehouse stays in use)"))
    facts_html = "".join(f"<tr><th>{_bi(*k)}</th><td>{v}</td></tr>" for k, v in facts)
    parts = [f'<div class="status">{badge}</div>', f'<div class="cards">{cards}</div>',
             f'<table class="facts">{facts_html}</table>']
    if info.get("message"):
        parts.append(f'<p class="message">{_t(info["message"])}</p>')
    if run_row.get("demo_key"):
        parts.append(_note("注意：本次使用演示密钥生成化名，仅供测试，不得用于真实数据。",
                           "Warning: built with the demo pseudonym key; not for real data."))
    if ctx.warehouse_error:
        parts.append(_note(ctx.warehouse_error.split(" (")[0], ctx.warehouse_error))
    if checks:
        failed = [c for c in checks if not c[1]]
        parts.append(f"<h3>{_bi('检查结果', 'Checks')}：{len(checks) - len(failed)} / {len(checks)} 通过 "
                     f'<span class="en">passed</span></h3>')
        headers = [("检查项", "check"), ("结果", "result"), ("说明", "detail")]

        def check_rows(subset: list[tuple[str, bool, str]]) -> list[list[str]]:
            return [[_t(name), '<span class="ok">✔ 通过</span>' if passed else '<span class="bad">✘ 未通过</span>',
                     _t(detail)] for name, passed, detail in subset]

        if failed:
            parts.append(_table(headers, check_rows(failed)))
        passed = [c for c in checks if c[1]]
        if passed:  # folded: a long list of green rows would hide what matters (no script needed)
            parts.append(f"<details><summary>查看全部 {len(passed)} 项通过的检查 "
                         f'<span class="en">show the passed checks</span></summary>{_table(headers, check_rows(passed))}</details>')
    else:
        parts.append(_note("没有检查结果。", "No check results recorded."))
    return "".join(parts)


def _checks(ctx: _Context) -> list[tuple[str, bool, str]]:
    """Checks given by the caller (e.g. Dagster asset checks) then the build's own ``ops.check``."""
    out = []
    for check in ctx.run_info.get("checks") or []:
        get = check.get if isinstance(check, dict) else lambda k, c=check: getattr(c, k, None)
        out.append((str(get("name") or get("check_name") or ""), bool(get("passed")), str(get("detail") or "")))
    if not ctx.warehouse_error and ctx.has("ops.check"):
        out += [(n, bool(p), d or "") for n, p, d in ctx.rows("SELECT check_name, passed, detail FROM {db}.ops.check ORDER BY 1")]
    return out


def _file_roles(registry: pl.DataFrame) -> dict[str, str]:
    """file_id -> its strongest role over the counties it covers (current > history > superseded)."""
    rank = {"current": 0, "history": 1, "superseded": 2}
    roles: dict[str, str] = {}
    if registry.height == 0:
        return roles
    for file_id, role in current_files(registry).select("file_id", "status").iter_rows():
        if file_id not in roles or rank[role] < rank[roles[file_id]]:
            roles[file_id] = role
    return roles


def _files(ctx: _Context) -> str:
    registry = ctx.registry
    if registry.height == 0:
        return _note("状态目录中还没有登记任何文件。", "No files registered in the state directory yet.")
    counts = ["rows_read", "rows_accepted", "rows_quarantined", "blank_rows"]
    department_order = pl.col("department").replace_strict(list(DEPARTMENTS), range(len(DEPARTMENTS)), default=99,
                                                          return_dtype=pl.Int64)
    per_department = (
        registry.group_by("department")
        .agg(files=pl.len(), unreadable=(pl.col("status") == "unreadable").sum(),
             **{c: pl.col(c).fill_null(0).sum() for c in counts})
        .sort(department_order, "department")
    )
    series = [("入库 accepted", PALETTE[2]), ("隔离 quarantined", PALETTE[3]), ("空行 blank", PALETTE[7])]
    chart = hbar_chart([(_dept(r["department"]), [r["rows_accepted"], r["rows_quarantined"], r["blank_rows"]])
                        for r in per_department.iter_rows(named=True)], series, title="各部门读取行数 Rows read per department")
    department_table = _table(
        [("部门", "department"), ("文件数", "files"), ("无法读取", "unreadable"), ("读取", "read"),
         ("入库", "accepted"), ("隔离", "quarantined"), ("空行", "blank"), ("隔离比例", "share quarantined")],
        [[_dept_cell(r["department"]), _n(r["files"]), _n(r["unreadable"]), _n(r["rows_read"]), _n(r["rows_accepted"]),
          _n(r["rows_quarantined"]), _n(r["blank_rows"]), _pct(r["rows_quarantined"], r["rows_read"])]
         for r in per_department.iter_rows(named=True)], numeric=range(1, 8))

    roles = _file_roles(registry)
    rows = []
    for r in registry.sort([department_order, "department", "extract_date", "file_name"],
                           descending=[False, False, True, False], nulls_last=True).iter_rows(named=True):
        status_zh, status_en = FILE_STATUS_ZH.get(r["status"], (r["status"], r["status"]))
        role = roles.get(r["file_id"])
        status = _bi(status_zh, status_en)
        if role and r["status"] == "ingested":
            status += f' <span class="tag">{_bi(*FILE_ROLE_ZH[role])}</span>'
        css = "bad" if r["status"] == "unreadable" else ""
        rows.append([_dept_cell(r["department"]), f'<span class="file">{_t(r["file_name"])}</span>',
                     _when(r["extract_date"]), f'<span class="{css}">{status}</span>',
                     _n(r["rows_read"]), _n(r["rows_accepted"]), _n(r["rows_quarantined"]), _n(r["blank_rows"]),
                     _t(r["reason"] or "")])
    file_table = _table(
        [("部门", "department"), ("文件名", "file"), ("提取日期", "extract date"), ("状态", "status"), ("读取", "read"),
         ("入库", "accepted"), ("隔离", "quarantined"), ("空行", "blank"), ("原因", "reason")],
        rows, numeric=range(4, 8), css="files")
    return (f"<h3>{_bi('按部门', 'By department')}</h3>{chart}{department_table}"
            + _note("读取 = 入库 + 隔离 + 空行。", "rows read = accepted + quarantined + blank.")
            + f"<h3>{_bi('按文件', 'By file')}</h3>{file_table}")


#: Groups reasons whose text names a row ("exact duplicate of row 7") under their stable form.
_REASON_KEY_SQL = f"""CASE WHEN reason LIKE 'exact duplicate%' THEN '{DUPLICATE_ROW}'
    WHEN reason LIKE '{CONFLICTING_RECORD_ID}%' THEN '{CONFLICTING_RECORD_ID}' ELSE reason END"""


def _quarantine_counts(ctx: _Context) -> list[tuple[str, str | None, str, int]]:
    """(department, field, reason, rows): from ops.quarantine, else the state dir's quarantine files."""
    sql = (f"SELECT department, field, {_REASON_KEY_SQL} AS reason, count(*) AS n FROM {{source}} "
           "GROUP BY ALL ORDER BY department, n DESC, reason")
    if not ctx.warehouse_error and ctx.has("ops.quarantine"):
        return ctx.rows(sql.replace("{source}", "{db}.ops.quarantine"))
    files = sorted((ctx.state.root / "quarantine").glob("*/*.parquet"))
    if not files:
        if ctx.registry.height and ctx.registry.get_column("rows_quarantined").fill_null(0).sum() > 0:
            raise Unavailable("仓库与状态目录中都找不到隔离明细 (no quarantine detail in the warehouse or the state directory)")
        return []
    listing = ", ".join(f"'{_sql_path(f)}'" for f in files)
    return ctx.conn.execute(sql.replace("{source}", f"read_parquet([{listing}], union_by_name = true)")).fetchall()


def _field_zh(department: str, name: str | None) -> str:
    if not name:
        return "整行 (whole row)"
    if department in DEPARTMENTS:
        for spec in columns(department):
            if spec.name == name:
                return f"{_t(spec.column.zh)} <span class=en>{_t(name)}</span>"
    return _t(name)


def _reason_cell(reason: str) -> str:
    return _bi(REASON_ZH[reason], reason) if reason in REASON_ZH else _t(reason)


def _quarantine(ctx: _Context, top: int = 5) -> str:
    counts = _quarantine_counts(ctx)
    if not counts:
        return _note("没有被隔离的行。", "No rows were quarantined.")
    by_reason: dict[str, int] = defaultdict(int)
    per_department: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for department, _, reason, n in counts:
        by_reason[reason] += n
        per_department[department][reason] += n
    shown = sorted(by_reason, key=lambda r: (-by_reason[r], r))[:len(PALETTE) - 1]
    other = [r for r in by_reason if r not in shown]
    series = [(REASON_ZH.get(r, r), PALETTE[i]) for i, r in enumerate(shown)]
    if other:
        series.append(("其他 other", PALETTE[-1]))
    order = sorted(per_department, key=lambda d: (list(DEPARTMENTS).index(d) if d in DEPARTMENTS else 99, d))
    chart = hbar_chart([(_dept(d), [per_department[d].get(r, 0) for r in shown]
                         + ([sum(per_department[d].get(r, 0) for r in other)] if other else []))
                        for d in order], series, title="各部门隔离行数（按原因） Quarantined rows by reason")
    parts = [chart]
    for department in order:
        rows = [r for r in counts if r[0] == department][:top]
        total = sum(per_department[department].values())
        parts.append(f"<h3>{_bi(_dept(department), department)}：{_n(total)} 行被隔离 "
                     f'<span class="en">rows quarantined</span></h3>')
        parts.append(_table([("原因", "reason"), ("字段", "field"), ("行数", "rows")],
                            [[_reason_cell(reason), _field_zh(department, fld), _n(n)] for _, fld, reason, n in rows],
                            numeric=[2]))
    parts.append(_note("被隔离的行未进入数据仓库；请各部门按文件名和原因核对后重新报送。",
                       "Quarantined rows are not in the warehouse; departments can correct and resend them."))
    return "".join(parts)


def _households(ctx: _Context) -> str:
    rows = ctx.rows("""
        WITH latest AS (SELECT department, max(snapshot_date) AS d FROM {db}.core.record_link GROUP BY 1)
        SELECT r.department, any_value(l.d), count(DISTINCT r.record_id), count(DISTINCT r.household_id),
               count(*) FILTER (WHERE r.household_id IS NOT NULL), count(*)
        FROM {db}.core.record_link r JOIN latest l USING (department)
        WHERE l.d IS NULL OR r.snapshot_date IS NULL OR r.snapshot_date = l.d
        GROUP BY 1""")
    if not rows:
        return _note("本次没有关联结果。", "No linkage results in this run.")
    rows.sort(key=lambda r: (list(DEPARTMENTS).index(r[0]) if r[0] in DEPARTMENTS else 99, r[0]))
    total = ctx.scalar("SELECT count(*) FROM {db}.core.household") if ctx.has("core.household") else None
    chart = hbar_chart([(_dept(r[0]), [r[3]]) for r in rows], [("户数 households", PALETTE[0])],
                       title="各部门覆盖户数 Households reached per department")
    table = _table(
        [("部门", "department"), ("最新提取日期", "latest extract"), ("记录数", "records"), ("覆盖户数", "households"),
         ("占全部户数", "share of all households"), ("记录关联到户的比例", "records linked to a household")],
        [[_dept_cell(d), _when(day), _n(records), _n(households), _pct(households, total or 0), _pct(linked, n)]
         for d, day, records, households, linked, n in rows], numeric=range(2, 6))
    note = _note(f"全部关联户数：{_n(total)}。一户可被多个部门覆盖。",
                 f"All linked households: {_n(total)}. A household can be reached by several departments.")
    return chart + table + note


def _match_weights(ctx: _Context, bins: int = 20) -> str:
    methods = ctx.rows("SELECT coalesce(method, 'unknown'), count(*) FROM {db}.core.record_link GROUP BY 1 ORDER BY 2 DESC")
    method_table = _table([("关联方式", "method"), ("记录数", "records")],
                          [[_bi(*METHOD_ZH.get(m, (m, m))), _n(n)] for m, n in methods], numeric=[1])
    low, high, n = ctx.rows("SELECT min(match_weight), max(match_weight), count(match_weight) FROM {db}.core.record_link")[0]
    if not n:
        return _note("本次没有带匹配权重的关联（全部为身份证号一致或单独记录）。",
                     "No weighted links in this run (all exact ID matches or singletons).") + method_table
    start, width = _bins(low, high, bins)
    counted = dict(ctx.rows("""
        SELECT least(CAST(floor((match_weight - ?) / ?) AS INTEGER), ? - 1) AS b, count(*)
        FROM {db}.core.record_link WHERE match_weight IS NOT NULL GROUP BY 1""", [start, width, bins]))
    edges = [start + i * width for i in range(bins + 1)]
    chart = histogram(edges, [counted.get(i, 0) for i in range(bins)], title="匹配权重分布 Match weight distribution",
                      x_label="匹配权重 match weight", y_label="记录数 records")
    note = _note("匹配权重越高，两条记录越可能是同一人；集中在高值说明关联可信，低值附近的记录需要人工核对。",
                 "Higher weight: more likely the same person. Mass at high values means trustworthy links; "
                 "records near the low end are the ones to review.")
    return chart + note + f"<h3>{_bi('关联方式', 'How records were linked')}</h3>" + method_table


def _bins(low: float, high: float, bins: int) -> tuple[float, float]:
    """A start and bin width on round numbers covering [low, high]."""
    if high <= low:
        return math.floor(low) - bins / 2, 1.0
    width = (high - low) / bins
    magnitude = 10 ** math.floor(math.log10(width))
    width = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= width)
    start = math.floor(low / width) * width
    while start + bins * width < high:  # rounding the start down can push the top past the last bin
        width = next(m * magnitude for m in (1, 2, 2.5, 5, 10, 20) if m * magnitude > width)
        start = math.floor(low / width) * width
    return start, width


def _townships(ctx: _Context) -> str:
    titles: dict[str, str] = {}
    if ctx.has("monitor.rule"):
        titles = {r: t or r for r, t in ctx.rows("SELECT rule, title_zh FROM {db}.monitor.rule")}
    latest = ctx.scalar("SELECT max(snapshot_date) FROM {db}.monitor.rule_hit")
    if latest is None:
        return _note("本次没有任何风险规则命中。", "No risk rule fired in this run.")
    rows = ctx.rows("""
        WITH placed AS (
            SELECT coalesce(g.county, '') AS place_county, coalesce(g.township, '') AS place_township,
                   r.rule, r.household_id
            FROM {db}.monitor.rule_hit r
            LEFT JOIN {db}.core.household h USING (household_id)
            LEFT JOIN gazetteer g ON g.village_code = h.village_code
            WHERE r.snapshot_date = ?)
        SELECT place_county, place_township, rule, count(DISTINCT household_id), grouping(rule)
        FROM placed
        GROUP BY GROUPING SETS ((place_county, place_township, rule), (place_county, place_township))""", [latest])
    places = sorted({(c, t) for c, t, *_ in rows})
    rules = sorted({r for _, _, r, _, g in rows if not g})
    by_place: dict[tuple[str, str], dict[str | None, int]] = defaultdict(dict)
    for county, township, rule, n, all_rules in rows:
        by_place[(county, township)][None if all_rules else rule] = n
    places.sort(key=lambda p: -by_place[p].get(None, 0))

    def name(place: tuple[str, str]) -> str:
        county, township = place
        return f"{county} {township}" if township else "未知乡镇 unknown township"

    chart = hbar_chart([(name(p), [by_place[p].get(None, 0)]) for p in places], [("户数 households", PALETTE[3])],
                       title="各乡镇命中风险规则的户数 Households with a rule hit per township",
                       bar_height=22 if len(places) <= 12 else 14)  # a county has dozens of townships
    highest = max([n for p in places for r, n in by_place[p].items() if r is not None] + [1])

    def cell(n: int | None) -> str:
        if not n:
            return '<span class="zero">0</span>'
        return f'<span class="heat" style="--heat:{0.15 + 0.6 * n / highest:.2f}">{_n(n)}</span>'

    table = _table([("乡镇", "township"), ("命中户数", "households with a hit"),
                    *[(titles.get(r, r), r) for r in rules]],
                   [[_t(name(p)), _n(by_place[p].get(None, 0)), *[cell(by_place[p].get(r)) for r in rules]]
                    for p in places], numeric=range(1, len(rules) + 2), css="heatmap")
    note = _note(f"截至 {latest}（最新监测日期）。一户可同时命中多条规则，故各规则户数之和可大于命中户数。",
                 f"As of {latest} (latest snapshot). A household can hit several rules.")
    return chart + table + note


def _changes(ctx: _Context, recent: int = 6) -> str:
    parts: list[str] = []
    lineage_rows = ctx.rows("""
        SELECT snapshot_date, event, count(*) FROM {db}.core.id_lineage
        WHERE entity = 'household' AND event IN ('created', 'split', 'merged') GROUP BY ALL""") \
        if ctx.has("core.id_lineage") else None
    events_rows = ctx.rows("SELECT snapshot_date, event, count(*), count(*) FILTER (WHERE is_reentry) "
                           "FROM {db}.monitor.lead_event GROUP BY ALL") if ctx.has("monitor.lead_event") else None
    if lineage_rows is None and events_rows is None and ctx.warehouse_error:
        raise Unavailable(ctx.warehouse_error)

    parts.append(f"<h3>{_bi('户的变化', 'Households: new, split, ended')}</h3>")
    if lineage_rows is None:
        parts.append(_note("暂无户编号沿革表。", "No household lineage table yet."))
    elif not lineage_rows:
        parts.append(_note("没有户的新建、分户或合并。", "No households created, split or merged."))
    else:
        pivot: dict[Any, dict[str, int]] = defaultdict(dict)
        for day, event, n in lineage_rows:
            pivot[day][event] = n
        days = sorted(pivot, key=lambda d: (d is None, d), reverse=True)[:recent]
        parts.append(_table([("监测日期", "snapshot"), *LINEAGE_ZH.values()],
                            [[_when(d), *[_n(pivot[d].get(e, 0)) for e in LINEAGE_ZH]] for d in days],
                            numeric=range(1, 4)))

    parts.append(f"<h3>{_bi('监测名单进出', 'Lead list: entries and exits')}</h3>")
    if events_rows is None:
        parts.append(_note("暂无监测事件表。", "No monitoring event table yet."))
    elif not events_rows:
        parts.append(_note("没有进入或退出监测名单的户。", "No entries to or exits from the lead list."))
    else:
        pivot = defaultdict(dict)
        reentries: dict[Any, int] = {}
        for day, event, n, re_n in events_rows:
            pivot[day][event] = n
            if event == "entry":
                reentries[day] = re_n
        days = sorted(pivot, reverse=True)[:recent]
        parts.append(_table([("监测日期", "snapshot"), LEAD_EVENT_ZH["entry"], ("其中再次进入", "of which re-entries"),
                             LEAD_EVENT_ZH["exit"], LEAD_EVENT_ZH["exit_candidate"]],
                            [[_when(d), _n(pivot[d].get("entry", 0)), _n(reentries.get(d, 0)), _n(pivot[d].get("exit", 0)),
                              _n(pivot[d].get("exit_candidate", 0))] for d in days], numeric=range(1, 5)))
        parts.append(_note("“可考虑退出”只是提示，是否退出由工作人员决定。",
                           "Exit candidates are suggestions: a person decides."))

    parts.append(f"<h3>{_bi('与上次运行对比', 'Compared with the previous run')}</h3>")
    if not ctx.has_previous:
        parts.append(_note(ctx.previous_error.split(" (")[0] if ctx.previous_error else "没有提供上次运行的仓库，只显示本次数据中的变化。",
                           ctx.previous_error or "No previous warehouse given: changes above come from this run's data."))
    elif ctx.warehouse_error:
        parts.append(_note("本次仓库不可用，无法对比。", "This run's warehouse is unavailable: nothing to compare."))
    else:
        parts.append(_comparison(ctx))
    return "".join(parts)


_COMPARED = [
    (("关联户数", "households"), "core.household", "SELECT count(*) FROM {db}.core.household"),
    (("关联人数", "persons"), "core.person", "SELECT count(*) FROM {db}.core.person"),
    (("已关联记录", "linked records"), "core.record_link", "SELECT count(*) FROM {db}.core.record_link"),
    (("文件数", "files"), "ops.file", "SELECT count(*) FROM {db}.ops.file"),
    (("隔离行数", "rows quarantined"), "ops.quarantine", "SELECT count(*) FROM {db}.ops.quarantine"),
    (("监测名单户数（最新）", "households on the lead list (latest)"), "monitor.lead",
     "SELECT count(*) FROM {db}.monitor.lead WHERE snapshot_date = (SELECT max(snapshot_date) FROM {db}.monitor.lead)"),
]


def _comparison(ctx: _Context) -> str:
    metrics: list[tuple[tuple[str, str], Any, Any]] = []

    def value(sql: str, qualified: str, database: str) -> Any:
        return ctx.scalar(sql, database=database) if ctx.has(qualified, database) else None

    for label, qualified, sql in _COMPARED:
        metrics.append((label, value(sql, qualified, "prev"), value(sql, qualified, "wh")))
    rule_sql = ("SELECT rule, count(DISTINCT household_id) FROM {db}.monitor.rule_hit "
                "WHERE snapshot_date = (SELECT max(snapshot_date) FROM {db}.monitor.rule_hit) GROUP BY 1")
    titles = dict(ctx.rows("SELECT rule, title_zh FROM {db}.monitor.rule")) if ctx.has("monitor.rule") else {}
    before = dict(ctx.rows(rule_sql, database="prev")) if ctx.has("monitor.rule_hit", "prev") else {}
    now = dict(ctx.rows(rule_sql)) if ctx.has("monitor.rule_hit") else {}
    for rule in sorted(set(before) | set(now)):
        metrics.append(((f"命中“{titles.get(rule) or rule}”的户数", f"households hitting {rule}"),
                        before.get(rule, 0), now.get(rule, 0)))
    if ctx.has("core.household", "prev") and ctx.has("core.household"):
        ended, new = ctx.rows("""
            SELECT (SELECT count(*) FROM prev.core.household p ANTI JOIN wh.core.household w USING (household_id)),
                   (SELECT count(*) FROM wh.core.household w ANTI JOIN prev.core.household p USING (household_id))""")[0]
        metrics.append((("上次有、本次已不存在的户编号", "household IDs ended since last run"), None, ended))
        metrics.append((("本次新出现的户编号", "household IDs new since last run"), None, new))

    def delta(old: Any, new: Any) -> str:
        if old is None or new is None:
            return "—"
        change = new - old
        css = "up" if change > 0 else "down" if change < 0 else "same"
        return f'<span class="{css}">{"+" if change > 0 else ""}{_n(change)}</span>'

    return _table([("指标", "measure"), ("上次", "previous"), ("本次", "this run"), ("变化", "change")],
                  [[_bi(*label), _n(old), _n(new), delta(old, new)] for label, old, new in metrics], numeric=range(1, 4))


BUILDERS: dict[str, Callable[[_Context], str]] = {
    "summary": _summary, "files": _files, "quarantine": _quarantine, "households": _households,
    "match_weights": _match_weights, "townships": _townships, "changes": _changes,
}


# ---------------------------------------------------------------------------
# page


CSS = """
:root { --ink:#1d2733; --muted:#5b6673; --line:#d9dee4; --ok:#0a7d45; --bad:#b42318; --accent:#0072B2; }
* { box-sizing: border-box; }
body { margin:0; color:var(--ink); background:#f4f6f8;
  font-family:"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC",
  "WenQuanYi Zen Hei",system-ui,sans-serif; font-size:15px; line-height:1.55; }
header { background:#16324f; color:#fff; padding:24px 32px; }
header h1 { margin:0; font-size:26px; } header .en { color:#c9d6e3; }
header .meta { margin-top:6px; color:#c9d6e3; font-size:14px; }
nav { background:#fff; border-bottom:1px solid var(--line); padding:10px 32px; font-size:14px; }
nav a { color:var(--accent); margin-right:18px; text-decoration:none; white-space:nowrap; }
main { max-width:1180px; margin:0 auto; padding:8px 24px 40px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; margin:20px 0; padding:18px 24px; }
h2 { margin:0 0 12px; font-size:21px; border-left:5px solid var(--accent); padding-left:10px; }
h3 { font-size:16px; margin:18px 0 8px; }
.en { display:block; font-size:0.8em; font-weight:normal; color:var(--muted); letter-spacing:0.01em; }
h3 .en, td .en, .badge small, .tag .en { display:inline; margin-left:4px; }
header h1 .en { display:block; font-size:15px; }
table { border-collapse:collapse; width:100%; margin:8px 0 4px; font-size:14px; }
th, td { border-bottom:1px solid var(--line); padding:6px 8px; text-align:left; vertical-align:top; }
thead th { background:#eef2f6; font-weight:600; }
tbody tr:nth-child(even) { background:#fafbfc; }
.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
table.facts { width:auto; } table.facts th { background:none; padding-right:24px; font-weight:600; }
table.files td { font-size:13px; } .file { font-family:ui-monospace,Consolas,monospace; word-break:break-all; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(160px, 1fr)); gap:12px; margin:12px 0; }
.card { border:1px solid var(--line); border-radius:6px; padding:10px 14px; background:#fafbfc; }
.card .value { font-size:24px; font-weight:700; font-variant-numeric:tabular-nums; }
.card .label { color:var(--muted); font-size:13px; }
.badge { display:inline-block; padding:4px 14px; border-radius:14px; font-weight:700; font-size:17px; color:#fff; }
.ok { color:var(--ok); } .bad { color:var(--bad); }
.badge.ok { background:var(--ok); color:#fff; } .badge.bad { background:var(--bad); color:#fff; }
.badge.unknown { background:#777; color:#fff; } .badge small { color:#eef; font-weight:normal; }
details summary { cursor:pointer; color:var(--accent); margin:6px 0; }
details summary .en { display:inline; margin-left:4px; }
.up, .down { font-weight:600; } .same { color:var(--muted); }  /* a change is news, not good or bad */
.tag { display:inline-block; font-size:12px; background:#eef2f6; border-radius:4px; padding:0 6px; margin-left:4px; }
.note { color:var(--muted); font-size:13px; margin:6px 0; } .note .en { display:inline; margin-left:6px; font-size:12px; }
.unavailable { background:#fff7e6; border:1px dashed #e0a100; padding:10px 14px; border-radius:6px; }
.message { background:#fdecea; padding:10px 14px; border-radius:6px; }
svg.chart { display:block; max-width:100%; height:auto; margin:8px 0; }
svg.chart text { font-family:inherit; fill:#1d2733; }
.heat { display:inline-block; min-width:2.6em; padding:0 6px; border-radius:3px;
  background:rgba(213,94,0,var(--heat)); } .zero { color:#b8bec6; }
footer { text-align:center; color:var(--muted); font-size:12px; padding:16px; }
@media print { body { background:#fff; } section { break-inside:avoid-page; border:none; } nav { display:none; } }
"""


def render_run_report(warehouse_path: Path, state_dir: Path, *, run_id: str,
                      previous_warehouse: Path | None = None, run_info: dict | None = None) -> str:
    """The report as an HTML string (see ``write_run_report``)."""
    state = StateDir(Path(state_dir))
    conn, warehouse_error, previous_error, has_previous = _open(Path(warehouse_path), previous_warehouse)
    try:
        ctx = _Context(run_id=run_id, run_info=dict(run_info or {}), state=state, registry=load_registry(state),
                       conn=conn, warehouse_error=warehouse_error, previous_error=previous_error,
                       has_previous=has_previous)
        sections = []
        for key, (zh, en) in SECTIONS.items():
            try:
                body = BUILDERS[key](ctx)
            except Unavailable as why:
                body = f'<p class="unavailable">此部分暂不可用。<span class="en">Section unavailable: {_t(why)}</span></p>'
            sections.append(f'<section id="{key}"><h2>{escape(zh)}<span class="en">{escape(en)}</span></h2>{body}</section>')
    finally:
        conn.close()
    nav = "".join(f'<a href="#{key}">{escape(zh)}</a>' for key, (zh, _) in SECTIONS.items())
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>数据整合运行报告 {_t(run_id)}</title><style>{CSS}</style></head><body>"
        f'<header><h1>数据整合运行报告<span class="en">Hearth data integration run report</span></h1>'
        f'<div class="meta">运行编号 run ID: {_t(run_id)}</div></header>'
        f"<nav>{nav}</nav><main>{''.join(sections)}</main>"
        "<footer>本报告只含统计数字、文件名和乡镇名，不含身份证号、电话或姓名。"
        "<br>Counts, file names and township names only: no ID numbers, phones or names.</footer>"
        "</body></html>\n")


def write_run_report(warehouse_path: Path, state_dir: Path, out_path: Path, *, run_id: str,
                     previous_warehouse: Path | None = None, run_info: dict | None = None) -> Path:
    """Write the run report to ``out_path`` (mode 0o640, replaced atomically) and return the path.

    ``run_info`` (all optional): ``started_at``, ``finished_at``, ``generated_at``
    (datetime, ISO text or epoch seconds), ``triggered_by``, ``success`` (bool),
    ``published`` (bool), ``message`` (text shown under the status) and
    ``checks`` (dicts or objects with ``name``, ``passed``, ``detail``; shown
    before the build's own ``ops.check`` rows).
    """
    html = render_run_report(warehouse_path, state_dir, run_id=run_id, previous_warehouse=previous_warehouse,
                             run_info=run_info)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        os.fchmod(handle, REPORT_MODE)  # explicit: the umask must not widen or narrow it
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(html)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out
