"""Helpers for the fault tests: real `hearth run` processes on a small generated drop."""

import builtins
import errno
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from warehouse.build import fingerprints

HEARTH = [sys.executable, "-m", "pipelines.cli"]


def content(path: Path) -> dict:
    """Fingerprints of every table except ops.* (which records run IDs and times)."""
    return {k: v for k, v in fingerprints(path).items() if not k.startswith("ops.")}


def run(landing: Path, warehouse: Path, *, wait: bool = True) -> subprocess.Popen:
    env = os.environ | {"HEARTH_DEMO": "1", "HEARTH_QUIET_SECONDS": "0"}
    env.pop("DAGSTER_HOME", None)
    env.pop("HEARTH_PSEUDONYM_KEY", None)
    proc = subprocess.Popen([*HEARTH, "run", "--landing", str(landing), "--warehouse", str(warehouse)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    if wait:
        finish(proc)
    return proc


def finish(proc: subprocess.Popen) -> None:
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]


def kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> bool:
    """SIGKILL the run's whole process group as soon as ``ready()`` is true; False if it ended first."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.05)
    proc.wait()
    return False


def refuse_under(monkeypatch, folder: Path, *, writes: bool = True, reads: bool = False,
                 code: int = errno.EACCES) -> None:
    """Make the OS refuse to write (and, with ``reads``, to list or open) anything under ``folder``.

    The tests run as root, where permission bits stop nothing, so the refusal
    is simulated one level down, at the ``os`` calls every Python write goes
    through (``tempfile``, ``pathlib`` and ``open`` all end in these), with the
    error the kernel gives: EACCES for a folder without the permission, EROFS
    for a read-only mount.
    """
    folder = os.path.realpath(folder)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def under(path) -> bool:
        if not isinstance(path, (str, bytes, os.PathLike)):
            return False  # a file descriptor
        target = os.path.realpath(os.fsdecode(path))
        return target == folder or target.startswith(folder + os.sep)

    def guard(original, refused, paths=1):
        def guarded(*args, **kwargs):
            for path in args[:paths]:
                if under(path) and refused(*args, **kwargs):
                    raise OSError(code, os.strerror(code), os.fsdecode(path))
            return original(*args, **kwargs)
        return guarded

    def always(*args, **kwargs) -> bool:
        return True

    def os_open(path, flags, *args, **kwargs) -> bool:
        return reads or bool(flags & write_flags)

    def open_mode(file, mode="r", *args, **kwargs) -> bool:
        return reads or any(c in mode for c in "wax+")

    monkeypatch.setattr(os, "open", guard(os.open, os_open))
    monkeypatch.setattr(builtins, "open", guard(builtins.open, open_mode))
    monkeypatch.setattr(io, "open", builtins.open)
    if writes:
        for name in ("mkdir", "unlink", "remove", "rmdir"):
            monkeypatch.setattr(os, name, guard(getattr(os, name), always))
        for name in ("replace", "rename"):
            monkeypatch.setattr(os, name, guard(getattr(os, name), always, paths=2))
    if reads:
        for name in ("scandir", "listdir"):
            monkeypatch.setattr(os, name, guard(getattr(os, name), always))
