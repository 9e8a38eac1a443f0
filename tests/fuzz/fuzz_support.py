"""Shared pieces of the fuzz suite: the hypothesis profile, landing folders, snapshots.

``make test`` runs the bounded profile; ``HEARTH_FUZZ_EXAMPLES`` scales every
test's budget (``make fuzz`` sets it high). The profile is only *registered*
here and applied per test through :func:`fuzz_settings`, so other hypothesis
tests in the suite keep their own settings.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from hypothesis import HealthCheck, settings

#: examples of the cheapest tests in the bounded run; the costly ones take a share of it.
BASE_EXAMPLES = int(os.environ.get("HEARTH_FUZZ_EXAMPLES", "100"))

settings.register_profile(
    "hearth-fuzz",
    max_examples=BASE_EXAMPLES,
    # timings vary with the load on a shared 2-core box; a slow example is not a failure.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
    print_blob=True,
)


def fuzz_settings(share: float = 1.0) -> settings:
    """The fuzz profile with ``share`` of the example budget (at least 5)."""
    return settings(settings.get_profile("hearth-fuzz"), max_examples=max(5, round(BASE_EXAMPLES * share)))


DEPARTMENTS = ("education", "health", "housing", "water", "civil_affairs")


def make_landing(root: Path) -> Path:
    if root.exists():
        shutil.rmtree(root)
    landing = root / "landing"
    for department in DEPARTMENTS:
        (landing / department).mkdir(parents=True)
    return landing


def snapshot_outside(root: Path, *inside: Path) -> dict[str, tuple]:
    """Every path under ``root`` except those under ``inside``: kind, size, mtime, content hash."""
    import hashlib

    skip = tuple(str(p) for p in inside)
    found: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        if dirpath.startswith(skip):
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if path.startswith(skip):
                continue
            stat = os.lstat(path)
            digest = None
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
            # a folder's mtime moves when the state folder is created beside the landing one; its
            # contents are compared entry by entry instead.
            is_dir = os.path.isdir(path) and not os.path.islink(path)
            found[path] = (stat.st_mode, None if is_dir else stat.st_size,
                           None if is_dir else stat.st_mtime_ns, digest)
    return found


def bait(tmp_path: Path) -> Path:
    """tmp_path with bait outside the landing folder: ``x`` (for ``rm -rf x``) and a secret table."""
    (tmp_path / "x").mkdir(exist_ok=True)
    (tmp_path / "x" / "keep.txt").write_text("must survive")
    (tmp_path / "secret.csv").write_text("记录编号,姓名,身份证号\n1,王芳,52990119800101002X\n", encoding="utf-8")
    return tmp_path


def csv_line(cells: list[str]) -> str:
    import csv
    import io

    out = io.StringIO()
    # "\r\n": fields holding either character get quoted (with "\n" a bare CR would end the line).
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()
