"""`nxhub harvest` and `nxhub instruments show` from the command line: clear errors, no token shown."""

from __future__ import annotations

import json
import subprocess
import sys


def _nxhub(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_cli_names_bad_settings_and_never_prints_a_token(db, env_for_cli, tmp_path) -> None:
    secret = "nemo-secret-0123456789abcdef"
    settings = json.dumps({"url": "http://127.0.0.1:9/api/", "tool_id": 1, "token": secret})
    assert _nxhub(env_for_cli, "instruments", "add", "TEM-1", "--harvester", "nemo", "--harvester-settings", settings).returncode == 0
    no_token = json.dumps({"url": "http://127.0.0.1:9/api/", "tool_id": 2, "token_env": "NXHUB_TEST_UNSET_TOKEN"})
    assert _nxhub(env_for_cli, "instruments", "add", "TEM-2", "--harvester", "nemo", "--harvester-settings", no_token).returncode == 0
    shown = _nxhub(env_for_cli, "--json", "instruments", "show", "TEM-1")
    assert json.loads(shown.stdout)["harvester_settings"]["token"] == "***" and secret not in shown.stdout

    run = _nxhub(env_for_cli, "harvest")
    assert run.returncode == 75
    lines = run.stderr.strip().splitlines()
    assert lines[0] == ("error: nemo http://127.0.0.1:9/api/ (instrument TEM-2): environment variable "
                        "NXHUB_TEST_UNSET_TOKEN (token_env) is not set")
    assert lines[1].startswith("nemo http://127.0.0.1:9/api/: usage_events: cannot reach the server (ConnectError")
    assert lines[-1].startswith("nxhub: error: 2 of 2 calendar sources could not be harvested")
    assert secret not in run.stderr + run.stdout

    unknown = _nxhub(env_for_cli, "harvest", "--instrument", "nope")
    assert unknown.returncode == 78 and unknown.stderr.strip() == "nxhub: error: no instrument named 'nope' (see 'nxhub instruments list')"
    unknown_kind = _nxhub(env_for_cli, "instruments", "add", "TEM-3", "--harvester", "outlook")
    assert unknown_kind.returncode == 2 and "harvester 'outlook' is not one of none, ical, nemo" in unknown_kind.stderr
    bad_since = _nxhub(env_for_cli, "harvest", "--since", "yesterday")
    assert bad_since.returncode == 2 and "is not an ISO date/time" in bad_since.stderr


def test_harvest_every_loops_until_sigterm(db, env_for_cli, tmp_path) -> None:
    import signal
    import time

    feed = tmp_path / "sem.ics"
    feed.write_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:a@x\r\nDTSTAMP:20260101T000000Z\r\n"
                    "DTSTART:20260101T090000Z\r\nDTEND:20260101T100000Z\r\nSUMMARY:Old booking\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    settings = json.dumps({"path": str(feed), "lookback_days": 3650})
    assert _nxhub(env_for_cli, "instruments", "add", "SEM-1", "--harvester", "ical", "--harvester-settings", settings).returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "nexuslims_kernel.cli.main", "harvest", "--every", "0.2"], env=env_for_cli,
                            stderr=subprocess.PIPE, text=True)
    lines = []
    deadline = time.monotonic() + 60
    while len(lines) < 2 and time.monotonic() < deadline:
        lines.append(proc.stderr.readline())
    proc.send_signal(signal.SIGTERM)
    rest = proc.communicate(timeout=30)[1]
    assert proc.returncode == 0, rest
    assert "1 new" in lines[0] and "0 new" in lines[1]
