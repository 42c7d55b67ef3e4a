"""Throughput of our extraction (metadata + thumbnails) against the floor of reading the bytes.

``run_ours(paths, workers=2)`` is the function the comparison harness calls;
``python benchmarks/bench_extract.py [CORPUS]`` prints our time per dataset,
peak RSS (parent + workers) and the ratio to a ``cat``-style read of every
file measured in the same run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psutil


class RssMonitor:
    """Samples the RSS of this process plus all its children; ``peak_mb`` when done."""

    def __init__(self, interval_s: float = 0.05) -> None:
        self.interval_s = interval_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> float:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            try:
                total += child.memory_info().rss
            except psutil.Error:
                pass
        return total / 1e6

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._sample())
            self._stop.wait(self.interval_s)

    def __enter__(self) -> RssMonitor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_ours(paths: Iterable[str | os.PathLike[str]], workers: int = 2) -> dict[str, Any]:
    """Extract ``paths`` (companions folded in) with previews; time and memory figures."""
    from nexuslims_kernel.extract import ExtractionPool, split_companions

    mains = list(split_companions([str(p) for p in paths]))
    with tempfile.TemporaryDirectory() as previews, RssMonitor() as monitor:
        started = time.perf_counter()
        with ExtractionPool(workers=workers) as pool:
            results = list(pool.imap(mains, preview_dir=previews))
        total = time.perf_counter() - started
    n = sum(len(r.datasets) for r in results)
    return {"per_dataset_s": total / max(1, n), "total_s": total, "peak_rss_mb": monitor.peak_mb,
            "n_datasets": n, "n_files": len(results), "n_errors": sum(1 for r in results if r.error)}


def cat_floor(paths: Iterable[str | os.PathLike[str]]) -> float:
    """Seconds to read every file's bytes once (the least any harvester must do)."""
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(1 << 20):
                pass
    return time.perf_counter() - started


def cold_cli_seconds(path: str, repeats: int = 3) -> float:
    """Best-of wall time of `nxhub extract FILE --json` in a fresh interpreter (start-up included)."""
    import subprocess

    exe = str(Path(sys.executable).with_name("nxhub"))
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([exe, "extract", path, "--json"], capture_output=True, check=False)
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str]) -> None:
    corpus = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "em-corpus"
    paths = sorted(str(p) for p in corpus.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md")
                   and "LICENSES" not in p.parts)
    floor = cat_floor(paths)
    ours = run_ours(paths, workers=2)
    print(f"files: {len(paths)}  main files: {ours['n_files']}  datasets: {ours['n_datasets']}  errors: {ours['n_errors']}")
    print(f"ours: {ours['total_s']:.2f} s total, {ours['per_dataset_s'] * 1000:.1f} ms/dataset, peak RSS {ours['peak_rss_mb']:.0f} MB")
    print(f"cat floor: {floor:.3f} s  -> ours / cat = {ours['total_s'] / max(floor, 1e-9):.0f}x")
    small = str(corpus / "rosettasciio" / "dm" / "test_STEM_image.dm3")
    cold_python = min(
        __import__("timeit").repeat("subprocess.run([sys.executable, '-c', 'pass'])", "import subprocess, sys", number=1, repeat=3)
    )
    cli = cold_cli_seconds(small)
    print(f"cold `nxhub extract` on one small file: {cli:.2f} s (goal < 2 s: {'PASS' if cli < 2 else 'FAIL'}); "
          f"bare interpreter start {cold_python:.2f} s -> ratio {cli / max(cold_python, 1e-9):.1f}x")


if __name__ == "__main__":
    main(sys.argv)
