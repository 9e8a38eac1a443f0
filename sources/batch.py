"""Several landed files ingested at once: the same results as one by one, on every core.

Ingesting a file is mostly single-threaded work (normalising, validating,
writing Parquet), so a drop of many files goes faster when files are ingested
side by side. This module decides how, and keeps the result exactly that of
ingesting the files one by one, in the order given:

- arrival times are stamped here, in that order, before any file is read
  (``first_seen`` decides which of two corrected files supersedes the other);
- files of equal size go to the same worker, one after the other: only they
  can hold identical bytes, and the second of two identical files must find
  the first in the registry to be recorded as its ``duplicate``;
- the calling process works too, alone until the helpers have started, and
  the helpers outlive the call: their start-up (importing polars and the
  normalisers, one to two seconds) is paid once per process, not once per
  department, and never waited for;
- small batches stay in one process: starting a helper costs more than it
  saves below ``min_parallel_bytes``.

The registry itself is written under its lock (``sources.registry``), so
concurrent workers never lose each other's rows.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sources.ingest import IngestResult, ingest_file
from sources.registry import StateDir

#: Below this many bytes in all, files are ingested in the calling process only.
MIN_PARALLEL_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class FileToIngest:
    path: Path
    department: str
    size: int
    arrived: datetime
    position: int


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def ingest_files(
    files: Sequence[tuple[Path, str]],
    state: StateDir,
    *,
    workers: int | None = None,
    min_parallel_bytes: int = MIN_PARALLEL_BYTES,
    arrived: datetime | None = None,
) -> list[IngestResult]:
    """Ingest ``(path, department)`` pairs; results in the order given.

    ``workers``: processes at once, the calling one included (default: every
    core). ``arrived``: the first file's arrival time (default now); each
    later file arrives one microsecond after the one before it.
    """
    start = arrived or datetime.now(timezone.utc)
    batch = [FileToIngest(Path(path), department, _size(Path(path)), start + timedelta(microseconds=i), i)
             for i, (path, department) in enumerate(files)]
    groups = _groups_by_size(batch)
    workers = default_workers() if workers is None else max(1, workers)
    helpers = min(workers, len(groups)) - 1
    if helpers < 1 or sum(f.size for f in batch) < min_parallel_bytes:
        results = [_ingest_group(group, state) for group in groups]
    else:
        results = _ingest_in_parallel(groups, state, helpers)
    by_position = {f.position: result for group, done in zip(groups, results) for f, result in zip(group, done)}
    return [by_position[i] for i in range(len(batch))]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1  # ingest_file reports it; its own group, so it never waits on another file


def _groups_by_size(batch: list[FileToIngest]) -> list[list[FileToIngest]]:
    """Files of equal size together, in the order given; largest groups first."""
    by_size: dict[int, list[FileToIngest]] = {}
    for item in batch:
        by_size.setdefault(item.size, []).append(item)
    return sorted(by_size.values(), key=lambda group: (-sum(max(f.size, 0) for f in group), group[0].position))


def _ingest_group(group: list[FileToIngest], state: StateDir) -> list[IngestResult]:
    return [ingest_file(f.path, f.department, state, arrived=f.arrived) for f in group]


@dataclass
class _Helpers:
    pool: ProcessPoolExecutor
    #: done once every helper has imported the normalisers: until then this process works alone
    ready: Future


_helpers: dict[int, _Helpers] = {}


def _helper_pool(helpers: int) -> _Helpers:
    """The helper processes of this process, started on first use and kept for later batches
    (Python shuts them down at exit)."""
    if helpers not in _helpers:
        for old in _helpers.values():
            old.pool.shutdown(wait=False, cancel_futures=True)
        _helpers.clear()
        # spawn, not fork: polars' thread pool does not survive a fork
        pool = ProcessPoolExecutor(max_workers=helpers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_helper)
        _helpers[helpers] = _Helpers(pool, pool.submit(os.getpid))
    return _helpers[helpers]


def _start_helper() -> None:
    import schemas.validate  # noqa: F401  (the normalisers and their tables, before the first file)


def _ingest_in_parallel(groups: list[list[FileToIngest]], state: StateDir, helpers: int) -> list[list[IngestResult]]:
    pending = deque(enumerate(groups))
    results: dict[int, list[IngestResult]] = {}
    helper = _helper_pool(helpers)
    running: dict[Future, int] = {}
    try:
        while pending or running:
            while pending and len(running) < helpers and helper.ready.done():
                # helpers from the small end, this process from the large end: both ends meet at about
                # the same time, and this process seldom waits on a helper's last file
                index, group = pending.pop()
                running[helper.pool.submit(_ingest_group, group, state)] = index
            if pending:
                index, group = pending.popleft()
                results[index] = _ingest_group(group, state)
            else:
                wait(running, return_when=FIRST_COMPLETED)
            for future in [f for f in running if f.done()]:
                results[running.pop(future)] = future.result()
    except BrokenProcessPool:
        # A helper died (killed, or out of memory on one file). Its pool is gone; what it had not
        # finished is ingested here, one by one, as without helpers. A file already registered by
        # the helper is recognised by its hash and not ingested twice.
        _helpers.clear()
        for future, index in running.items():
            finished = future.done() and not future.cancelled() and future.exception() is None
            results[index] = future.result() if finished else _ingest_group(groups[index], state)
        for index, group in pending:
            results[index] = _ingest_group(group, state)
    return [results[i] for i in range(len(groups))]
