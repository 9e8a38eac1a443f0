"""Scan the landing folder for files that are ready to ingest (stat only, no reads).

``<landing>/<department>/<file>``. A file copied in by a person or a script can
be seen half-written, so a file is *ready* only when

- a ``<file>.done`` marker sits next to it (the stronger contract), or
- its size is > 0 and size and mtime have not changed for ``quiet_seconds``
  across scans. The caller keeps the observations between scans (a
  JSON-able dict, e.g. a Dagster sensor cursor) and passes them back in.

A file that stays at 0 bytes becomes ready after ``empty_grace_seconds`` so
that its department is told it arrived empty rather than hearing nothing.
Only ``scandir``/``stat`` are used: a sensor tick must stay fast.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from schemas.departments import DEPARTMENTS

DEFAULT_QUIET_SECONDS = 60.0
DEFAULT_EMPTY_GRACE_SECONDS = 600.0
DONE_SUFFIX = ".done"
_NAME_DATE = re.compile(r"^(?P<county>\d{6})_(?P<date>\d{8})(?:[_\-.].*)?$")
_UNSAFE_KEY_CHARS = re.compile(r"[|,\[\]\s\x00-\x1f\\\"']")

try:
    from zoneinfo import ZoneInfo

    SHANGHAI = ZoneInfo("Asia/Shanghai")
except Exception:  # no tz database on the host; China has had no DST since 1991
    SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


@dataclass(frozen=True)
class LandingFile:
    """One data file in a department folder, as seen by ``stat``."""

    path: Path
    department: str
    file_name: str
    size: int
    mtime_ns: int
    county_from_name: str | None
    extract_date: date
    date_from_name: bool

    @property
    def key(self) -> str:
        """``department/file`` safe as a Dagster partition key."""
        return file_key(self.department, self.file_name)

    @property
    def version(self) -> str:
        """Changes whenever the file does: use with ``key`` as a run key."""
        return f"{self.mtime_ns}-{self.size}"

    @property
    def run_key(self) -> str:
        return f"{self.key}@{self.version}"


@dataclass(frozen=True)
class Refused:
    path: Path
    department: str
    reason: str


@dataclass
class Scan:
    ready: list[LandingFile] = field(default_factory=list)
    waiting: list[LandingFile] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    #: pass this back into the next ``scan_landing`` call.
    observations: dict[str, dict] = field(default_factory=dict)


def file_key(department: str, file_name: str) -> str:
    """Sanitised ``department/file_name``: no ``| , [ ]``, whitespace or quotes.

    A short hash of the real name is appended when anything was replaced, so
    two names that sanitise alike still get different keys.
    """
    raw = f"{department}/{file_name}"
    safe = _UNSAFE_KEY_CHARS.sub("_", raw)
    if safe != raw:
        # surrogateescape: a name that is not valid UTF-8 on disk still gets a key, not a crash.
        safe += "~" + hashlib.sha1(raw.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return safe


def parse_file_name(file_name: str) -> tuple[str | None, date | None]:
    """(county, extract date) from ``<county6>_<YYYYMMDD>[...].<ext>``, else (None, None)."""
    stem = file_name.split(".", 1)[0] if "." in file_name else file_name
    match = _NAME_DATE.match(stem)
    if not match:
        return None, None
    try:
        extract = datetime.strptime(match["date"], "%Y%m%d").date()
    except ValueError:
        return None, None
    return match["county"], extract


def mtime_date(mtime_ns: int) -> date:
    return datetime.fromtimestamp(mtime_ns / 1e9, tz=SHANGHAI).date()


def is_data_name(name: str) -> bool:
    """``_reports/``, ``.hidden``, ``*.part`` temp files and ``*.done`` markers are not data."""
    return not (name.startswith(("_", ".")) or name.endswith((".part", DONE_SUFFIX)))


def describe(path: Path, department: str, stat: os.stat_result) -> LandingFile:
    county, from_name = parse_file_name(path.name)
    return LandingFile(
        path=path, department=department, file_name=path.name, size=stat.st_size,
        mtime_ns=stat.st_mtime_ns, county_from_name=county,
        extract_date=from_name or mtime_date(stat.st_mtime_ns), date_from_name=from_name is not None,
    )


def scan_landing(
    landing: Path,
    observations: dict[str, dict] | None = None,
    *,
    now: float | None = None,
    quiet_seconds: float = DEFAULT_QUIET_SECONDS,
    empty_grace_seconds: float = DEFAULT_EMPTY_GRACE_SECONDS,
    departments: tuple[str, ...] | None = None,
) -> Scan:
    """Files under ``landing`` split into ready / waiting / refused.

    ``observations`` maps a file key to ``{"size", "mtime_ns", "since"}``:
    when this size+mtime was first seen (``now`` clock, seconds). Files that
    disappeared are dropped from the returned observations.
    """
    now = time.time() if now is None else now
    previous = observations or {}
    scan = Scan()
    root = Path(landing)
    real_root = root.resolve()
    for department in departments or tuple(DEPARTMENTS):
        folder = root / department
        if not folder.is_dir():
            continue
        with os.scandir(folder) as entries:
            names = {entry.name for entry in entries}
        for name in sorted(names):
            if not is_data_name(name):
                continue
            path = folder / name
            # realpath, not resolve(): a symlink loop must be refused, not raise RuntimeError.
            target = Path(os.path.realpath(path))
            if not target.is_relative_to(real_root):
                # A link to /etc/... or another department's share must never be ingested.
                scan.refused.append(Refused(path, department, f"symlink points outside the landing folder: {target}"))
                continue
            try:
                stat = path.stat()
            except OSError:  # vanished between scandir and stat, or a dangling / looping link
                if path.is_symlink():
                    scan.refused.append(Refused(path, department, "symlink points to nothing readable"))
                continue
            if not path.is_file():
                continue
            found = describe(path, department, stat)
            key = found.key
            seen = previous.get(key)
            if seen and seen.get("size") == found.size and seen.get("mtime_ns") == found.mtime_ns:
                since = float(seen["since"])
            else:
                since = now
            scan.observations[key] = {"size": found.size, "mtime_ns": found.mtime_ns, "since": since}
            if _is_ready(found, name, names, now - since, quiet_seconds, empty_grace_seconds):
                scan.ready.append(found)
            else:
                scan.waiting.append(found)
    return scan


def _is_ready(found: LandingFile, name: str, names: set[str], unchanged_for: float,
              quiet_seconds: float, empty_grace_seconds: float) -> bool:
    if name + DONE_SUFFIX in names:
        return True
    if found.size == 0:
        return unchanged_for >= empty_grace_seconds
    return unchanged_for >= quiet_seconds
