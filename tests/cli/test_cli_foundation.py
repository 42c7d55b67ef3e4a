"""The `nxhub` commands an admin types first, on a temp data dir, on both backends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def test_init_is_idempotent_and_reports_schema(nxhub) -> None:
    code, out, _ = nxhub("--json", "init")
    assert code == 0 and json.loads(out)["schema_now"] is not None
    code, out, _ = nxhub("--json", "init")
    info = json.loads(out)
    assert code == 0 and info["schema_before"] == info["schema_now"]


def test_commands_refuse_an_uninitialised_database(nxhub) -> None:
    code, _, err = nxhub("instruments", "list")
    assert code == 69 and "run 'nxhub init'" in err and err.count("\n") == 1


def test_instrument_lifecycle_and_errors(nxhub, tmp_path: Path) -> None:
    assert nxhub("init")[0] == 0
    code, out, err = nxhub("instruments", "add", "Titan", "--timezone", "Europe/Berlin", "--filestore", str(tmp_path))
    assert code == 0 and "Added instrument 'Titan'" in out
    code, _, err = nxhub("instruments", "add", "Titan")
    assert code == 5 and err.strip() == "nxhub: error: an instrument named 'Titan' already exists"
    code, _, err = nxhub("instruments", "add", "Other", "--timezone", "Mars/Olympus")
    assert code == 2 and "unknown time zone 'Mars/Olympus'" in err
    code, _, err = nxhub("instruments", "add", "../etc")
    assert code == 2 and "is not allowed" in err
    code, _, err = nxhub("instruments", "add", "Rel", "--filestore", "relative/path")
    assert code == 2 and "must be an absolute path" in err
    code, _, err = nxhub("instruments", "edit", "Nope", "--location", "B1")
    assert code == 4 and "no instrument named 'Nope'" in err
    code, _, err = nxhub("instruments", "edit", "Titan")
    assert code == 2 and "nothing to change" in err
    assert nxhub("instruments", "edit", "Titan", "--location", "Room 101")[0] == 0
    code, out, _ = nxhub("--json", "instruments", "list")
    (row,) = json.loads(out)
    assert (row["name"], row["timezone"], row["location"], row["has_token"]) == ("Titan", "Europe/Berlin", "Room 101", False)
    code, out, _ = nxhub("--json", "instruments", "token", "Titan")
    token = json.loads(out)["token"]
    assert token.startswith("nxh_") and len(token) > 40
    code, out, _ = nxhub("--json", "instruments", "show", "Titan")
    assert json.loads(out)["has_token"] is True and token not in out


def test_users_groups_projects(nxhub) -> None:
    nxhub("init")
    assert nxhub("groups", "add", "lab-a")[0] == 0
    code, out, _ = nxhub("--json", "users", "add", "alice", "--name", "Alice", "--email", "alice@example.org", "--nemo-id", "7", "--group", "lab-a")
    assert code == 0 and json.loads(out)["groups"] == ["lab-a"] and json.loads(out)["external_ids"] == {"nemo": 7}
    assert nxhub("users", "add", "alice")[0] == 5
    code, _, err = nxhub("users", "add", "bob", "--email", "not-an-email")
    assert code == 2 and "is not an e-mail address" in err
    code, _, err = nxhub("users", "add", "bob", "--group", "no-such-group")
    assert code == 4 and "no group named 'no-such-group'" in err
    code, out, _ = nxhub("--json", "users", "list")
    assert [u["username"] for u in json.loads(out)] == ["alice"]  # the failed add left nothing behind
    assert nxhub("users", "add", "bob")[0] == 0
    assert nxhub("groups", "add-member", "lab-a", "bob")[0] == 0
    code, out, _ = nxhub("--json", "groups", "list")
    assert json.loads(out)[0]["members"] == ["alice", "bob"]
    assert nxhub("groups", "remove-member", "lab-a", "alice")[0] == 0
    code, _, err = nxhub("groups", "remove-member", "lab-a", "alice")
    assert code == 4 and "is not a member" in err
    code, out, _ = nxhub("--json", "projects", "add", "p1", "--title", "Catalysts", "--group", "lab-a")
    assert code == 0 and json.loads(out)["group"] == "lab-a"


def test_sessions_add_list_show_rebuild(nxhub) -> None:
    nxhub("init")
    nxhub("instruments", "add", "Titan", "--timezone", "Europe/Berlin")
    nxhub("users", "add", "alice")
    code, out, _ = nxhub("--json", "sessions", "add", "Titan", "--start", "2026-11-20T09:00", "--end", "2026-11-20T12:00", "--user", "alice")
    s = json.loads(out)
    # Naive times are the instrument's local time (Berlin is UTC+1 in November).
    assert code == 0 and s["start"] == "2026-11-20T08:00:00+00:00" and s["status"] == "TO_BE_BUILT"
    code, _, err = nxhub("sessions", "add", "Titan", "--start", "yesterday")
    assert code == 2 and "is not an ISO date/time" in err
    code, _, err = nxhub("sessions", "add", "Titan", "--start", "2026-11-20T12:00", "--end", "2026-11-20T09:00")
    assert code == 2 and "--end must be after --start" in err
    code, out, _ = nxhub("--json", "sessions", "list", "--status", "to_be_built")
    assert [r["id"] for r in json.loads(out)] == [s["id"]]
    code, _, err = nxhub("sessions", "list", "--status", "DONE")
    assert code == 2 and "unknown status 'DONE'" in err
    code, _, err = nxhub("sessions", "rebuild", str(s["id"]))
    assert code == 6 and "cannot move from TO_BE_BUILT to TO_BE_BUILT" in err
    code, out, _ = nxhub("--json", "sessions", "show", str(s["id"]))
    assert [e["kind"] for e in json.loads(out)["events"]] == ["START", "END"]
    assert nxhub("sessions", "show", "999")[0] == 4


def test_status_and_config(nxhub) -> None:
    nxhub("init")
    code, out, _ = nxhub("--json", "status")
    assert code == 0 and json.loads(out)["schema_ok"] is True and json.loads(out)["sessions"] == {}
    code, out, _ = nxhub("--json", "config")
    keys = {row["setting"] for row in json.loads(out)}
    assert {"data_dir", "database_url", "extract.preview_size", "build.heartbeat_s", "api.port"} <= keys
    assert all("password" not in str(row["value"]) for row in json.loads(out))


def test_wrong_config_is_one_line(nxhub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXHUB_EXTRACT_PREVIEW_SIZE", "huge")
    code, _, err = nxhub("status")
    assert code == 78 and err.strip() == "nxhub: error: NXHUB_EXTRACT_PREVIEW_SIZE='huge' is not a whole number"


def test_installed_command_runs_as_a_new_user_would(env_for_cli: dict[str, str]) -> None:
    """The real console script, in a subprocess: help, init, add, list."""
    nxhub = str(Path(sys.executable).with_name("nxhub"))
    help_text = subprocess.run([nxhub, "--help"], capture_output=True, text=True, env=env_for_cli, check=True).stdout
    assert "instruments" in help_text and "Add, list, edit instruments" in help_text
    subprocess.run([nxhub, "init"], capture_output=True, env=env_for_cli, check=True)
    subprocess.run([nxhub, "instruments", "add", "FEI-Titan", "--timezone", "America/New_York"], capture_output=True, env=env_for_cli, check=True)
    listed = subprocess.run([nxhub, "--json", "instruments", "list"], capture_output=True, text=True, env=env_for_cli, check=True)
    assert json.loads(listed.stdout)[0]["name"] == "FEI-Titan"
    bad = subprocess.run([nxhub, "instruments", "add", "FEI-Titan"], capture_output=True, text=True, env=env_for_cli)
    assert bad.returncode == 5 and "Traceback" not in bad.stderr
