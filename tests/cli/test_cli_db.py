"""`nxhub db upgrade|downgrade|current` as an admin runs them, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys

from nexuslims_kernel.db import head_revision


def _nxhub(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=180)


def test_schema_round_trip_from_the_command_line_keeps_rows(env_for_cli: dict[str, str]) -> None:
    env = env_for_cli
    fresh = _nxhub(env, "--json", "db", "current")
    assert fresh.returncode == 3 and json.loads(fresh.stdout)["up_to_date"] is False

    up = _nxhub(env, "--json", "db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert json.loads(up.stdout)["to"] == head_revision()
    now = _nxhub(env, "--json", "db", "current")
    assert now.returncode == 0 and json.loads(now.stdout)["current"] == head_revision()

    added = _nxhub(env, "instruments", "add", "Titan", "--timezone", "Europe/Berlin")
    assert added.returncode == 0, added.stderr

    refused = _nxhub(env, "db", "downgrade", "0001", stdin="n\n")  # asks first; "no" changes nothing
    assert refused.returncode != 0
    assert json.loads(_nxhub(env, "--json", "db", "current").stdout)["current"] == head_revision()

    down = _nxhub(env, "--json", "db", "downgrade", "0001", "--yes")
    assert down.returncode == 0, down.stderr
    moved = json.loads(down.stdout)
    assert (moved["from"], moved["to"]) == (head_revision(), "0001")
    behind = _nxhub(env, "instruments", "list")
    assert behind.returncode == 69 and "Traceback" not in behind.stderr  # the wrong schema is a clear error
    assert len(behind.stderr.strip().splitlines()) == 1

    again = _nxhub(env, "--json", "db", "upgrade")
    assert again.returncode == 0 and json.loads(again.stdout)["from"] == "0001"
    listed = _nxhub(env, "--json", "instruments", "list")
    assert listed.returncode == 0 and "Titan" in listed.stdout
