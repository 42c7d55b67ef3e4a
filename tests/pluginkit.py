"""Helpers for tests that run nxhub with the installed counting extractor plugin (tests/plugins)."""

from __future__ import annotations

import os
from pathlib import Path


def plugin_env(env: dict[str, str], site: Path, log: Path, sleep_s: float = 0.0) -> dict[str, str]:
    """``env`` with the installed counting plugin importable and logging extractions to ``log``."""
    path = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
    return env | {"PYTHONPATH": path, "NXHUB_COUNT_LOG": str(log), "NXHUB_COUNT_SLEEP": str(sleep_s)}
