"""One landed file -> registry row + accepted/quarantine Parquet + department report.

Keyed by content hash: bytes already ingested under the same department and
name return the recorded result without reading anything; the same bytes
under another name in the same department are recorded as a ``duplicate``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from stat import S_ISREG

import polars as pl

from schemas.departments import DEPARTMENTS
from schemas.headers import HeaderMatch, guess_department, match_headers
from schemas.validate import ROW_NUMBER, FileMeta, validate
from sources import reports
from sources.landing import mtime_date, parse_file_name
from sources.readers import RawTable, UnreadableFile, read_table_bytes
from sources.registry import StateDir, file_id_of, load_registry, lookup, register, write_parquet_atomic


@dataclass(frozen=True)
class IngestResult:
    file_id: str
    department: str
    file_name: str
    status: str  # ingested | unreadable | duplicate
    extract_date: date | None
    county_from_name: str | None
    counties: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    blank_rows: int = 0
    reason: str | None = None
    reject_reasons: dict[str, int] = field(default_factory=dict)
    accepted_path: Path | None = None
    quarantine_path: Path | None = None
    report_path: Path | None = None
    #: True when these bytes were already registered and nothing was done.
    already_known: bool = False
    #: What ingesting it took here (wall and CPU seconds of the process that did it).
    seconds: float = 0.0
    cpu_seconds: float = 0.0


def ingest_file(path: Path, department: str, state: StateDir, arrived: datetime | None = None) -> IngestResult:
    cpu, wall = time.process_time(), time.perf_counter()
    result = _ingest(Path(path), department, state, arrived)
    return replace(result, seconds=time.perf_counter() - wall, cpu_seconds=time.process_time() - cpu)


def _ingest(path: Path, department: str, state: StateDir, arrived: datetime | None) -> IngestResult:
    file_name = printable_name(path.name)
    arrived = arrived or datetime.now(timezone.utc)
    try:
        data, stat = read_landed(path)
    except UnreadableFile as error:
        # No bytes, no content hash: nothing is registered, so the file is read afresh if it comes back.
        text = reports.unreadable_report(file_name, department, error, received=arrived)
        report = reports.write_report(path.parent, file_name, text, state_root=state.root)
        return IngestResult(file_id="", department=department, file_name=file_name, status="unreadable",
                            extract_date=None, county_from_name=None, reason=error.reason_en, report_path=report)
    file_id = file_id_of(data)
    county, name_date = parse_file_name(file_name)
    entry = {
        "file_id": file_id, "department": department, "file_name": file_name, "size": len(data),
        "mtime_ns": stat.st_mtime_ns, "first_seen": arrived, "county_from_name": county,
        "extract_date": name_date or mtime_date(stat.st_mtime_ns), "counties": [],
    }
    registry = load_registry(state)
    if (known := lookup(registry, file_id, department, file_name)) is not None:
        return _from_row(known, state, path, already_known=True)
    if (same_bytes := lookup(registry, file_id, department)) is not None:
        row = register(state, entry | {
            "status": "duplicate", "reason": f"same content as {same_bytes['file_name']}",
            "counties": same_bytes["counties"]})
        text = reports.duplicate_report(file_name, department, same_as=same_bytes, file_id=file_id, received=arrived)
        report = reports.write_report(path.parent, file_name, text, state_root=state.root)
        return _from_row(row, state, path, report_path=report)

    try:
        table = read_table_bytes(data, file_name)
        frame = _canonical_frame(table, department)
    except UnreadableFile as error:
        row = register(state, entry | {"status": "unreadable", "reason": error.reason_en})
        text = reports.unreadable_report(file_name, department, error, file_id=file_id, received=arrived)
        report = reports.write_report(path.parent, file_name, text, state_root=state.root)
        return _from_row(row, state, path, report_path=report)

    meta = FileMeta(file_id=file_id, file_name=file_name, snapshot_date=entry["extract_date"],
                    county_from_name=county)
    validated = validate(frame, department, meta, raw=table.frame)
    accepted_path = state.accepted_path(department, file_id)
    quarantine_path = state.quarantine_path(department, file_id)
    write_parquet_atomic(validated.accepted, accepted_path)
    write_parquet_atomic(validated.quarantine, quarantine_path)
    counties = sorted(validated.accepted["county"].drop_nulls().unique().to_list())
    counts = {"rows_read": table.frame.height, "rows_accepted": validated.accepted.height,
              "rows_quarantined": validated.quarantine.height, "blank_rows": validated.blank_rows}
    row = register(state, entry | counts | {"status": "ingested", "counties": counties})
    if validated.quarantine.height:
        text = reports.quarantine_report(file_name, department, validated.quarantine, rows_read=counts["rows_read"],
                                         rows_accepted=counts["rows_accepted"], blank_rows=counts["blank_rows"],
                                         file_id=file_id, received=arrived)
    else:
        text = reports.receipt_report(file_name, department, rows_read=counts["rows_read"],
                                      rows_accepted=counts["rows_accepted"], blank_rows=counts["blank_rows"],
                                      file_id=file_id, received=arrived)
    report = reports.write_report(path.parent, file_name, text, state_root=state.root)
    return _from_row(row, state, path, report_path=report, reject_reasons=dict(validated.reject_reasons))


def printable_name(name: str) -> str:
    """A file name as text that can be stored and printed: bytes that are not UTF-8 become ``\\xff``."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_landed(path: Path) -> tuple[bytes, os.stat_result]:
    """The bytes of ``<landing>/<department>/<file>`` and their stat, through one open descriptor.

    Raises UnreadableFile for a link leading out of the landing folder, for
    anything but a regular file (a folder, a pipe) and for a file that
    vanished or cannot be opened.
    """
    landing = Path(os.path.realpath(path.parent.parent))
    if not Path(os.path.realpath(path)).is_relative_to(landing):
        raise reports.link_outside_landing()
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as error:
        raise reports.cannot_open(error) from error
    stat = os.fstat(descriptor)
    if not S_ISREG(stat.st_mode):
        os.close(descriptor)
        raise reports.not_a_regular_file()
    with os.fdopen(descriptor, "rb") as handle:
        try:
            return handle.read(), stat
        except OSError as error:
            raise reports.cannot_open(error) from error


def _canonical_frame(table: RawTable, department: str) -> pl.DataFrame:
    """Mapped columns renamed to canonical names, plus ``row_number``.

    The row as read (``raw_row``) is ``table.frame`` itself: ``validate`` encodes
    it for the quarantined rows only.

    Raises UnreadableFile when the headers fit another department better, or
    when a required column is missing (every row would fail: that is a file
    problem, reported once, not thousands of row problems).
    """
    headers = table.frame.columns
    match = match_headers(headers, department)
    guessed = _other_department(headers, department, match)
    if guessed is not None:
        raise reports.wrong_department(department, guessed)
    if match.missing_required:
        raise reports.missing_columns(department, match.missing_required)
    first = table.first_data_row
    # Columns by position: polars reads a header such as "^.*$" given to pl.col as a regex.
    position = {header: index for index, header in enumerate(headers)}
    return table.frame.select(
        *(pl.nth(position[found]).alias(canonical) for found, canonical in match.mapping.items()),
        pl.int_range(first, first + pl.len(), dtype=pl.Int32).alias(ROW_NUMBER),
    )


def _other_department(headers: list[str], department: str, match: HeaderMatch) -> str | None:
    """The department these headers fit better than the folder's own, if one clearly does.

    ``guess_department`` wants half of a department's columns; a department
    exporting only the columns it was asked for often has fewer, so when our
    own department misses a required column, any other department that has
    all of its required columns and a strictly better score is named.
    """
    guessed = guess_department(headers)
    if guessed is not None and guessed != department and (
            match.missing_required or match_headers(headers, guessed).score > match.score):
        return guessed
    if not match.missing_required:
        return None
    fits = sorted(((m.score, m.department) for m in (match_headers(headers, d) for d in DEPARTMENTS if d != department)
                   if not m.missing_required and m.score > match.score), reverse=True)
    if fits and (len(fits) == 1 or fits[0][0] > fits[1][0]):
        return fits[0][1]
    return None


def _from_row(row: dict, state: StateDir, path: Path, *, already_known: bool = False,
              report_path: Path | None = None, reject_reasons: dict[str, int] | None = None) -> IngestResult:
    department, file_id, status = row["department"], row["file_id"], row["status"]
    ingested = status == "ingested"
    if report_path is None:
        candidate = reports.report_path(path.parent, row["file_name"])
        report_path = candidate if candidate.exists() else None
    return IngestResult(
        file_id=file_id, department=department, file_name=row["file_name"], status=status,
        extract_date=row["extract_date"], county_from_name=row["county_from_name"],
        counties=list(row["counties"] or []), rows_read=row["rows_read"] or 0,
        rows_accepted=row["rows_accepted"] or 0, rows_quarantined=row["rows_quarantined"] or 0,
        blank_rows=row["blank_rows"] or 0, reason=row["reason"], reject_reasons=reject_reasons or {},
        accepted_path=state.accepted_path(department, file_id) if ingested else None,
        quarantine_path=state.quarantine_path(department, file_id) if ingested else None,
        report_path=report_path, already_known=already_known,
    )
