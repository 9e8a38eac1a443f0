"""In-process measurement: a background RSS/CPU sampler and a recorder of calls to a function.

The sampler is what gives peak memory *per stage*: the process's maximum RSS
(``ru_maxrss``) only says how high it ever went, not during which stage.
"""

from __future__ import annotations

import functools
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil

SAMPLE_INTERVAL_S = 0.05


@dataclass(frozen=True)
class Sample:
    at: float  # time.perf_counter()
    rss: int  # bytes
    cpu: float  # user + sys seconds of the whole process so far


class Sampler:
    """Samples this process's RSS and CPU time every ``interval`` seconds on a daemon thread."""

    def __init__(self, interval: float = SAMPLE_INTERVAL_S):
        self.interval = interval
        self.samples: list[Sample] = []
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def _sample(self) -> None:
        cpu = self._process.cpu_times()
        self.samples.append(Sample(time.perf_counter(), self._process.memory_info().rss, cpu.user + cpu.system))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> "Sampler":
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def window(self, start: float, end: float) -> dict[str, float | None]:
        """Peak RSS (MB) and CPU seconds between two ``perf_counter`` instants.

        The sample just before ``start`` counts towards the peak so that a stage
        shorter than the interval still has an RSS figure (the memory it began with).
        """
        before = [s for s in self.samples if s.at <= start][-1:]
        points = before + [s for s in self.samples if start < s.at <= end]
        if not points:
            return {"peak_rss_mb": None, "cpu_seconds": None}
        return {"peak_rss_mb": mb(max(s.rss for s in points)),
                "cpu_seconds": round(max(0.0, self.cpu_at(end) - self.cpu_at(start)), 3)}

    def cpu_at(self, instant: float) -> float:
        """Process CPU seconds at ``instant``, interpolated between the two samples around it."""
        earlier = [s for s in self.samples if s.at <= instant]
        later = [s for s in self.samples if s.at > instant]
        if not earlier:
            return later[0].cpu
        if not later:
            return earlier[-1].cpu
        a, b = earlier[-1], later[0]
        return a.cpu + (b.cpu - a.cpu) * (instant - a.at) / (b.at - a.at)


@dataclass
class Call:
    started: float
    ended: float
    cpu_seconds: float
    args: tuple = field(repr=False, default=())
    result: object = field(repr=False, default=None)

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@contextmanager
def record_calls(module, name: str):
    """Replace ``module.name`` by a wrapper that records each call's time, CPU and result.

    Used on the module that *calls* the function (e.g. ``pipelines.ingest.sweep``
    for ``ingest_file``), so the real code path runs unchanged and we still get
    per-call figures.
    """
    original = getattr(module, name)
    calls: list[Call] = []

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        cpu0, t0 = time.process_time(), time.perf_counter()
        result = original(*args, **kwargs)
        calls.append(Call(t0, time.perf_counter(), time.process_time() - cpu0, args, result))
        return result

    setattr(module, name, wrapper)
    try:
        yield calls
    finally:
        setattr(module, name, original)


def mb(n_bytes: float) -> float:
    return round(n_bytes / 2**20, 1)
