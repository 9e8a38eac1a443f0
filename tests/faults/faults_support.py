"""Helpers for the fault tests: real `hearth run` processes on a small generated drop."""

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
