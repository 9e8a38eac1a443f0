"""Department reports: ``<landing>/<department>/_reports/<file>.txt``, Chinese first, then English.

Department staff read these, so they name the file, say plainly what is
wrong and what to send instead, and point at rows by the row number they see
in Excel. The ``_reports`` folder starts with ``_`` so the landing scan never
mistakes it for data.

A report that cannot be written there (a landing folder the account running
Hearth may not write, a read-only mount, a full disk) is not dropped: it waits
in ``<state>/pending_reports/<department>/`` and every later sweep of that
department tries to deliver it, until it is written or a newer report for the
same file replaces it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from schemas.departments import DEPARTMENT_ZH, columns
from sources.readers import UnreadableFile
from sources.registry import write_text_atomic

REPORTS_FOLDER = "_reports"
#: how many example rows a report lists per reason.
EXAMPLE_ROWS = 10
#: the stable reason codes of ``schemas.validate``, for department staff.
REASON_ZH = {
    "missing required value": "必填内容为空",
    "exact duplicate row": "与前面某一行完全重复",
    "record_id repeated with different content": "编号重复但内容不同",
}


#: bytes a file name may have on Linux filesystems (ext4, xfs, tmpfs).
NAME_MAX = 255


def report_path(landing_department_folder: Path, file_name: str) -> Path:
    """``_reports/<file>.txt``; a name too long for ``.txt`` keeps its start and gets a hash to stay unique."""
    name = f"{file_name}.txt"
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) > NAME_MAX:
        digest = hashlib.sha1(encoded).hexdigest()[:12]
        keep = encoded[: NAME_MAX - len(digest) - len("~.txt")].decode("utf-8", "ignore")
        name = f"{keep}~{digest}.txt"
    return Path(landing_department_folder) / REPORTS_FOLDER / name


def department_label(department: str) -> str:
    return f"{DEPARTMENT_ZH.get(department, department)}（{department}）"


def header_zh(department: str, field: str | None) -> str:
    """The Chinese header staff know a canonical column by (``学籍号`` for record_id)."""
    if not field:
        return "整行"
    spec = next((s for s in columns(department) if s.name == field), None) if department in DEPARTMENT_ZH else None
    return f"{spec.column.zh}（{field}）" if spec else field


def _heading(file_name: str, department: str, file_id: str, received: datetime | None) -> list[str]:
    when = _moment(received)
    return [
        f"文件 File: {file_name}",
        f"部门 Department: {department_label(department)}",
        f"接收时间 Received: {when}    文件编号 File id: {file_id}",
        "",
    ]


def unreadable_report(file_name: str, department: str, error: UnreadableFile, *, file_id: str = "",
                      received: datetime | None = None) -> str:
    lines = _heading(file_name, department, file_id, received) + [
        "【结果】文件未能导入，其中的数据都没有被使用。",
        f"【原因】{error.reason_zh}",
        f"【请这样做】{error.hint_zh}",
        "",
        "Result: the file was NOT loaded; none of its rows were used.",
        f"Reason: {error.reason_en}",
        f"What to send instead: {error.hint_en}",
    ]
    return "\n".join(lines) + "\n"


def quarantine_report(file_name: str, department: str, quarantine: pl.DataFrame, *, rows_read: int,
                      rows_accepted: int, blank_rows: int, file_id: str = "",
                      received: datetime | None = None) -> str:
    """Counts by reason and the first rows (as numbered in the file) with the field concerned."""
    by_reason = quarantine.group_by("field", _reason_key()).agg(
        pl.len().alias("n"), pl.col("row_number").sort().head(EXAMPLE_ROWS).alias("rows"),
    ).sort(["n", "field"], descending=[True, False], nulls_last=True)
    lines = _heading(file_name, department, file_id, received) + [
        f"【结果】共读取 {rows_read} 行：导入 {rows_accepted} 行，{quarantine.height} 行有问题未导入"
        f"（已单独保存，改正后可重新发送），空行 {blank_rows} 行。",
        "【问题行】（行号即 Excel/文本中看到的行号）",
    ]
    english = [
        "",
        f"Result: {rows_read} rows read: {rows_accepted} loaded, {quarantine.height} held back because of "
        f"the problems below (kept aside, nothing is lost), {blank_rows} blank rows.",
        "Rows held back (row numbers as you see them in Excel / the text file):",
    ]
    for item in by_reason.iter_rows(named=True):
        rows = "、".join(str(r) for r in item["rows"]) + ("……" if item["n"] > EXAMPLE_ROWS else "")
        reason_zh = REASON_ZH.get(item["reason_key"], item["reason_key"])
        lines.append(f"  - {header_zh(department, item['field'])}：{reason_zh}，{item['n']} 行，如第 {rows} 行")
        english.append(f"  - {item['field'] or 'whole row'}: {item['reason_key']}, {item['n']} row{'s' if item['n'] != 1 else ''}, "
                       f"e.g. row {rows.replace('、', ', ').replace('……', ', ...')}")
    lines.append("【请这样做】请在原表中改正上述行（补全必填内容、删除重复行、确保编号唯一），"
                 "然后把改正后的完整文件重新发送（同一日期的新文件会替换旧文件）。")
    english.append("What to do: correct these rows in your table (fill in required values, remove duplicate rows, "
                   "keep record numbers unique) and send the whole corrected file again; a newer file for the same "
                   "date replaces the earlier one.")
    return "\n".join(lines + english) + "\n"


def receipt_report(file_name: str, department: str, *, rows_read: int, rows_accepted: int, blank_rows: int,
                   file_id: str = "", received: datetime | None = None) -> str:
    """A clean file also gets a short receipt: it replaces any stale report for the same name."""
    lines = _heading(file_name, department, file_id, received) + [
        f"【结果】导入成功：共 {rows_read} 行，导入 {rows_accepted} 行，空行 {blank_rows} 行，没有发现问题。",
        "",
        f"Result: loaded. {rows_read} rows read, {rows_accepted} loaded, {blank_rows} blank rows; no problems found.",
    ]
    return "\n".join(lines) + "\n"


def duplicate_report(file_name: str, department: str, *, same_as: dict, file_id: str = "",
                     received: datetime | None = None) -> str:
    """A file whose bytes arrived before under another name: said so, so that nobody sends it a third time.

    ``same_as`` is the registry row of the first arrival (``file_name``, ``status``, ``first_seen``, ``reason``).
    """
    first, when = same_as["file_name"], _moment(same_as["first_seen"])
    if same_as["status"] == "ingested":
        result_zh = (f"【结果】没有重复导入：本文件与 {when} 接收的文件“{first}”内容完全相同，"
                     "其中的数据那时已经导入，这次没有再次导入，也不需要重新发送。")
        result_en = (f'Result: not loaded twice. This file has exactly the same content as "{first}", received '
                     f"{when}, whose rows were loaded then; nothing was added and nothing needs to be sent again.")
    else:
        result_zh = (f"【结果】文件未能导入：本文件与 {when} 接收的文件“{first}”内容完全相同，那个文件未能导入，"
                     f"原因和处理办法见它的报告（{report_path(Path('.'), first).name}）。")
        result_en = (f'Result: the file was NOT loaded. It has exactly the same content as "{first}", received '
                     f"{when}, which could not be loaded ({same_as.get('reason') or 'see its report'}); its report "
                     "says what to send instead.")
    return "\n".join(_heading(file_name, department, file_id, received) + [result_zh, "", result_en]) + "\n"


def _moment(moment: datetime | None) -> str:
    return (moment or datetime.now()).astimezone().strftime("%Y-%m-%d %H:%M")


def write_report(landing_department_folder: Path, file_name: str, text: str, *,
                 state_root: Path | None = None) -> Path | None:
    """Write the report into ``_reports``; its path, or None when it had to wait.

    With ``state_root``, a report the landing folder refuses (any ``OSError``)
    is kept in the state folder for :func:`deliver_pending`; without it the
    error propagates.
    """
    path = report_path(landing_department_folder, file_name)
    department = Path(landing_department_folder).name
    try:
        _write_into_reports(path, text)
    except OSError as error:
        if state_root is None:
            raise
        waiting = pending_path(state_root, department, file_name)
        write_text_atomic(json.dumps({"file_name": file_name, "text": text, "error": os_error_text(error)},
                                     ensure_ascii=False), waiting)
        return None
    if state_root is not None:
        # A report written now supersedes one still waiting from an earlier run.
        pending_path(state_root, department, file_name).unlink(missing_ok=True)
    return path


def _write_into_reports(path: Path, text: str) -> None:
    folder = path.parent
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        # ``_reports`` is ours (``_`` names are never data): a link or file put there must not
        # send reports out of the landing folder, so it is replaced by a real folder.
        folder.unlink()
    write_text_atomic(text, path)


#: under the state folder: reports the landing folder refused, one JSON file each.
PENDING_FOLDER = "pending_reports"


@dataclass(frozen=True)
class PendingReport:
    department: str
    file_name: str
    #: the ``_reports`` folder it is meant for.
    folder: Path
    #: why it could not be written there ("Permission denied", "Read-only file system", ...).
    error: str


def pending_path(state_root: Path, department: str, file_name: str) -> Path:
    digest = hashlib.sha1(file_name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(state_root) / PENDING_FOLDER / department / f"{digest}.json"


def pending_reports(state_root: Path, landing: Path, department: str) -> list[PendingReport]:
    return [PendingReport(department, entry["file_name"], report_path(Path(landing) / department, entry["file_name"]).parent,
                          entry["error"]) for _, entry in _waiting(state_root, department)]


def deliver_pending(state_root: Path, landing: Path, department: str) -> list[PendingReport]:
    """Write the reports still waiting for ``department``; those that still cannot be written."""
    still_waiting = []
    for entry_path, entry in _waiting(state_root, department):
        path = report_path(Path(landing) / department, entry["file_name"])
        try:
            _write_into_reports(path, entry["text"])
        except OSError as error:
            still_waiting.append(PendingReport(department, entry["file_name"], path.parent, os_error_text(error)))
            continue
        entry_path.unlink(missing_ok=True)
    return still_waiting


def _waiting(state_root: Path, department: str) -> list[tuple[Path, dict]]:
    return [(path, json.loads(path.read_text(encoding="utf-8")))
            for path in sorted((Path(state_root) / PENDING_FOLDER / department).glob("*.json"))]


def os_error_text(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


def pending_problem(pending: list[PendingReport], state_root: Path) -> str:
    """For the people running Hearth: which folder refused, why, and what to do."""
    folders = ", ".join(sorted({str(p.folder) for p in pending}))
    errors = "; ".join(sorted({p.error for p in pending}))
    count = f"{len(pending)} department report{'s' if len(pending) != 1 else ''}"
    return (f"{count} could not be written into {folders} ({errors}). Give the account that runs Hearth write "
            f"access to that folder (or free space, or mount it read-write) and run again. Until then the reports "
            f"wait in {Path(state_root) / PENDING_FOLDER} and the warehouse is not published.")


def _reason_key() -> pl.Expr:
    """``reason`` without the row it points at ("exact duplicate of row 5" -> the stable code)."""
    reason = pl.col("reason")
    return (
        pl.when(reason.str.starts_with("exact duplicate")).then(pl.lit("exact duplicate row"))
        .when(reason.str.starts_with("record_id repeated")).then(pl.lit("record_id repeated with different content"))
        .otherwise(reason).alias("reason_key")
    )


def wrong_department(found: str, guessed: str) -> UnreadableFile:
    return UnreadableFile(
        f"The columns look like a {guessed} file ({DEPARTMENT_ZH.get(guessed, guessed)}), but it was put in the "
        f"{found} folder.",
        f"表格的列名看起来是{department_label(guessed)}的数据，却放在了{department_label(found)}的文件夹中。",
        f"如果确实是{DEPARTMENT_ZH.get(guessed, guessed)}的数据，请放入 {guessed} 文件夹；"
        f"否则请发送{DEPARTMENT_ZH.get(found, found)}规定格式的表格。",
        f"If it is {guessed} data, put it in the '{guessed}' folder; otherwise send the agreed {found} table.",
    )


def missing_columns(department: str, missing: list[str]) -> UnreadableFile:
    names_zh = "、".join(header_zh(department, m) for m in missing)
    return UnreadableFile(
        f"Required columns are missing: {', '.join(missing)}.",
        f"缺少必需的列：{names_zh}。",
        f"请在表格中加入这些列（列名：{names_zh.replace('（', '(').replace('）', ')')}）后重新发送。",
        f"Add these columns (with the agreed Chinese headers) and send the file again.",
    )



def link_outside_landing() -> UnreadableFile:
    return UnreadableFile(
        "The file is a link (shortcut) to something outside the landing folder; for safety it was not read.",
        "文件是指向接收文件夹之外的链接（快捷方式），出于安全原因未读取。",
        "请直接放入文件本身，而不是快捷方式或链接。",
        "Put the file itself in the folder, not a link or shortcut to it.",
    )


def not_a_regular_file() -> UnreadableFile:
    return UnreadableFile(
        "This is not a file (it is a folder or a device with a file-like name), so there is nothing to read.",
        "这不是文件（是一个文件夹或特殊设备，只是名字像文件），没有可读取的内容。",
        "请把表格文件本身直接放入部门文件夹，不要放文件夹。",
        "Put the table file itself directly into the department folder, not a folder.",
    )


def cannot_open(error: OSError) -> UnreadableFile:
    return UnreadableFile(
        f"The file could not be opened ({error.strerror or type(error).__name__}); it may have been removed "
        "or renamed while it was being read.",
        "无法打开文件（可能在读取时被删除、改名或没有读取权限）。",
        "请确认文件已完整上传并留在文件夹中，然后重新发送。",
        "Make sure the file was uploaded completely and stays in the folder, then send it again.",
    )
