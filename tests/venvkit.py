"""A peer program (NEMO, NexusLIMS) in a venv of its own beside the checkout: made once, reused, one install
even when two test runs start together (a file lock and a ready marker)."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    """``cmd``'s result; a failure is a RuntimeError with the end of its stderr."""
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def ensure_venv(venv: Path, requirement: str, tag: str, python: str = sys.executable,
                finish: Callable[[Path], None] | None = None) -> Path:
    """``venv`` with ``requirement`` installed (then ``finish(venv)``), marked ready as ``tag``; returns it."""
    ready = venv / f".ready-{tag}"
    if ready.is_file():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".lock-{tag}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # closing the file unlocks
        if ready.is_file():
            return venv
        if not (venv / "bin" / "python").exists():
            run([python, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "-q", requirement], timeout=1800)
        if finish is not None:
            finish(venv)
        ready.write_text(tag)
    return venv
