"""Interop fixtures: NexusLIMS 2.8.0 in its own venv (installed once, skipped if PyPI is out of reach)."""

from __future__ import annotations

from pathlib import Path

import nexuslims_venv
import pytest


@pytest.fixture(scope="session")
def nexuslims_28() -> Path:
    try:
        return nexuslims_venv.ensure_nexuslims()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"cannot install nexuslims=={nexuslims_venv.NEXUSLIMS_VERSION} into {nexuslims_venv.venv_dir()}: "
                    f"{str(exc)[:300]}")
