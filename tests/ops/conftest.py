"""Ops fixtures: one extraction pool per module, and a second empty database on the test's backend."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("nxhub_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py")
root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(root)  # the root conftest's helpers; its fixtures are pytest's already


@pytest.fixture(scope="module")
def pool():
    from nexuslims_kernel.extract import ExtractionPool

    with ExtractionPool(workers=1, timeout_s=60, memory_mb=1500) as p:
        yield p


@pytest.fixture
def fresh(request: pytest.FixtureRequest, tmp_path: Path, db_url: str) -> dict[str, str]:
    """Environment of a new, empty hub (data dir and database) on the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh' / 'nxhub.db'}"
    else:
        url = root._new_pg_database(request.getfixturevalue("pg_server"))
    return {"NXHUB_DATA_DIR": str(tmp_path / "fresh"), "NXHUB_DATABASE_URL": url, "NXHUB_XSD_PATH": str(root.XSD)}
