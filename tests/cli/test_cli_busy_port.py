"""A busy port: `nxhub up` and `nxhub api serve` print one line and start nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def busy_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _run(tmp_path: Path, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NXHUB_")}
    env.setdefault("PYTHONPATH", str(REPO))
    env.update(NXHUB_DATA_DIR=str(tmp_path / "data"), NXHUB_API_HOST="127.0.0.1", **env_extra)
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def _one_line_about(proc: subprocess.CompletedProcess, port: int, variable: str = "NXHUB_API_PORT") -> None:
    assert proc.returncode == 69, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert (f"port {port} on 127.0.0.1 is in use" in proc.stderr or f"port 127.0.0.1:{port} is in use" in proc.stderr)
    assert "--port" in proc.stderr and variable in proc.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _hub_ports() -> dict[str, str]:
    """The hub's internal ports on free ports, so only the port under test is busy."""
    return {name: str(_free_port()) for name in ("NXHUB_HUB_API_PORT", "NXHUB_HUB_PROXY_API_PORT", "NXHUB_HUB_SERVICE_PORT")}


def test_up_on_a_busy_port_starts_nothing(tmp_path: Path, busy_port: int) -> None:
    proc = _run(tmp_path, "up", "--port", str(busy_port), **_hub_ports())
    _one_line_about(proc, busy_port, "NXHUB_HUB_PORT")
    assert not (tmp_path / "data").exists()  # no database, no demo, no worker


def test_up_takes_the_port_from_the_environment(tmp_path: Path, busy_port: int) -> None:
    _one_line_about(_run(tmp_path, "up", NXHUB_HUB_PORT=str(busy_port), **_hub_ports()), busy_port, "NXHUB_HUB_PORT")


def test_api_only_up_on_a_busy_port_says_so_in_one_line(tmp_path: Path, busy_port: int) -> None:
    _one_line_about(_run(tmp_path, "up", "--api-only", "--port", str(busy_port)), busy_port)


def test_api_serve_on_a_busy_port_says_so_in_one_line(tmp_path: Path, busy_port: int) -> None:
    assert _run(tmp_path, "init").returncode == 0
    _one_line_about(_run(tmp_path, "api", "serve", "--port", str(busy_port), "--processes", "2"), busy_port)
    _one_line_about(_run(tmp_path, "api", "serve", "--port", str(busy_port), "--processes", "1"), busy_port)


def test_a_free_port_passes_the_check() -> None:
    from nexuslims_kernel.cli.ports import require_free_port

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    require_free_port("127.0.0.1", port)
    require_free_port("127.0.0.1", 0)
