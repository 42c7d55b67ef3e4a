"""Test-only extractors, registered through the registry API (and replayed in pool workers)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from nexuslims_kernel.extract.registry import Extractor


def _signal(data: Any) -> dict[str, Any]:
    return {"data": data, "axes": [{"name": "x", "size": data.shape[-1], "navigate": False}],
            "metadata": {}, "original_metadata": {}}


class SlowExtractor(Extractor):
    """Hangs far past any test timeout."""

    name = "test-slow"
    priority = 500
    extensions = ("slowtest",)

    def read(self, path: Path, fmt: str) -> list[dict[str, Any]]:
        time.sleep(600)
        return []


class HogExtractor(Extractor):
    """Asks for far more memory than the worker's limit."""

    name = "test-hog"
    priority = 500
    extensions = ("hogtest",)

    def read(self, path: Path, fmt: str) -> list[dict[str, Any]]:
        return [_signal(np.ones(8 * 1024**3 // 8))]


class CrashExtractor(Extractor):
    """Dies like a segfaulting C reader."""

    name = "test-crash"
    priority = 500
    extensions = ("crashtest",)

    def read(self, path: Path, fmt: str) -> list[dict[str, Any]]:
        import os
        import signal

        os.kill(os.getpid(), signal.SIGSEGV)
        return []
