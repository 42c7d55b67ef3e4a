"""CLI fixtures: run `nxhub` in-process against the test's data directory and database."""

from __future__ import annotations

import os

import pytest

from nexuslims_kernel.cli.main import main
from nexuslims_kernel.config import set_settings
from nexuslims_kernel.db import reset_databases


@pytest.fixture
def nxhub(env_for_cli: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run nxhub in-process with the test's environment; returns (exit code, stdout, stderr)."""
    for key in [k for k in os.environ if k.startswith("NXHUB_")]:
        monkeypatch.delenv(key)
    for key, value in env_for_cli.items():
        if key.startswith("NXHUB_"):
            monkeypatch.setenv(key, value)

    def run(*args: str) -> tuple[int, str, str]:
        set_settings(None)
        reset_databases()
        code = 0
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    set_settings(None)
    reset_databases()
