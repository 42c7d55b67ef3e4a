"""Fixtures: real NEMO servers on loopback (own venv, cached), and a facility to harvest into."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nemo_server


@pytest.fixture(scope="session")
def nemo_venv() -> Path:
    """PyPI ``nemo`` in ``.venv-nemo/<version>/``: installed on the first run, reused after."""
    try:
        return nemo_server.ensure_nemo()
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"cannot install nemo=={nemo_server.NEMO_VERSION} into {nemo_server.venv_dir()} "
                    f"(needs python3 -m venv and access to PyPI): {str(exc)[:300]}")


@pytest.fixture
def nemo_factory(nemo_venv: Path, tmp_path: Path):
    """``make(tz)`` -> a started NEMO with an API token; all are stopped after the test."""
    servers: list[nemo_server.NemoServer] = []

    def make(tz: str = "UTC", start: bool = True) -> nemo_server.NemoServer:
        server = nemo_server.new_server(nemo_venv, tmp_path / f"nemo{len(servers)}", tz=tz)
        servers.append(server)
        return server.start() if start else server

    yield make
    for server in servers:
        server.stop()
