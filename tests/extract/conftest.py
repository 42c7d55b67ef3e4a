"""Fixtures for the extraction tests: the real corpus (optional) and one shared pool."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CORPUS = Path(os.environ.get("NXHUB_EM_CORPUS", REPO.parent / "shared" / "em-corpus"))
PLUGINS = "extract_test_plugins"

if str(HERE) not in sys.path:  # so pool workers (spawned) can import the test plugins too
    sys.path.insert(0, str(HERE))


def manifest_rows() -> list[dict[str, str]]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with open(manifest, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def primary_rows() -> list[dict[str, str]]:
    return [r for r in manifest_rows() if r["role"] == "primary" and r["loads_ok"].startswith("yes")]


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"EM corpus not found at {CORPUS} (set NXHUB_EM_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def test_plugins():
    """Register the slow / hog / crash extractors for this session."""
    from nexuslims_kernel.extract import registry

    for name in ("SlowExtractor", "HogExtractor", "CrashExtractor"):
        registry.register_path(f"{PLUGINS}:{name}")
    yield
    for name, target in (("test-slow", "SlowExtractor"), ("test-hog", "HogExtractor"), ("test-crash", "CrashExtractor")):
        registry.unregister(name)
        registry.REGISTRY.forget_path(f"{PLUGINS}:{target}")


@pytest.fixture(scope="module")
def pool(test_plugins):
    """One warm two-worker pool with a short timeout, shared by a test module."""
    from nexuslims_kernel.extract import ExtractionPool

    with ExtractionPool(workers=2, timeout_s=6, memory_mb=1200) as p:
        yield p
