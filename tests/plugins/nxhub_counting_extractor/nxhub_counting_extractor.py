"""Extractor for ``*.count`` text files that appends a line per extraction to ``$NXHUB_COUNT_LOG``.

Tests count builds from that log, independently of nxhub's own events and tables. The file's text
becomes the signal's title and raw metadata, so a rewritten file shows whether a build re-read it.
``$NXHUB_COUNT_SLEEP`` (seconds) makes each extraction slow, to outlast a claim's reclaim time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from nexuslims_kernel.extract.registry import Extractor


class CountingExtractor(Extractor):
    name = "test-counting"
    priority = 400
    extensions = ("count",)

    def sniff(self, path: Path, head: bytes) -> str | None:
        return "count-text" if head.startswith(b"COUNT ") else None

    def read(self, path: Path, fmt: str) -> list[dict[str, Any]]:
        text = path.read_text(encoding="utf-8").strip()
        log = os.environ.get("NXHUB_COUNT_LOG")
        if log:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, f"{path}\t{os.getpid()}\t{text}\n".encode())
            finally:
                os.close(fd)
        time.sleep(float(os.environ.get("NXHUB_COUNT_SLEEP", "0")))
        data = np.arange(16, dtype="float32").reshape(4, 4)
        axes = [{"name": n, "size": 4, "scale": 1.0, "offset": 0.0, "units": "nm", "navigate": False} for n in "yx"]
        return [{"data": data, "axes": axes, "metadata": {"General": {"title": text}},
                 "original_metadata": {"CountFile": {"text": text}}}]
