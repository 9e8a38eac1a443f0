"""Stage clocks: wall seconds and CPU seconds (all threads of the process) per named stage.

On a shared machine wall time depends on the neighbours; CPU time says what
the work itself cost, so both are kept.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageClock:
    def __init__(self) -> None:
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - wall, time.process_time() - cpu)

    def add(self, name: str, wall: float, cpu: float) -> None:
        """Accumulate into ``name`` (a stage may be entered several times)."""
        self.wall[name] = round(self.wall.get(name, 0.0) + wall, 3)
        self.cpu[name] = round(self.cpu.get(name, 0.0) + cpu, 3)

    def with_total(self, times: dict[str, float]) -> dict[str, float]:
        out = dict(times)
        out["total"] = round(sum(v for k, v in times.items() if k != "total"), 3)
        return out
