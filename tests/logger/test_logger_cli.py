"""The headless Logger against a real API server: offline queueing, kill -9 at the worst moments, the zipapp."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from loggerkit import LOGGER_DIR, logger_env, run_cli, write_config
from nxhub_logger.journal import Journal


def uuids_of(home) -> list[tuple[str, str]]:
    journal = Journal(home / "journal.sqlite3")
    try:
        return [(ev.kind, ev.uuid) for ev in journal.events()]
    finally:
        journal.close()


def test_cli_offline_then_send_delivers_in_order(hub, logger_home) -> None:
    cfg = write_config(logger_home, hub.url, hub.token)
    start = run_cli(logger_home, "start", "--user", "alice", "--project", "catalysis", config=cfg)
    assert start.returncode == 0 and "queued (1 waiting): hub unreachable" in start.stdout, start.stdout + start.stderr
    run_cli(logger_home, "note", "tilted to 20 degrees", config=cfg)
    assert "2 queued" in run_cli(logger_home, "status", config=cfg).stdout
    hub.up()
    assert "delivered" in run_cli(logger_home, "end", config=cfg).stdout
    assert hub.events() == uuids_of(logger_home) and [k for k, _ in hub.events()] == ["START", "NOTE", "END"]
    status = json.loads(run_cli(logger_home, "status", "--json", config=cfg).stdout)
    assert status["queue"] == {"queued": 0, "sent": 3, "refused": 0} and status["session"] is None
    again = run_cli(logger_home, "end", config=cfg)
    assert again.returncode == 2 and again.stderr.startswith("error: no session is running")


@pytest.mark.parametrize("point", ["after-journal", "after-send"])
def test_kill_9_between_steps_loses_and_duplicates_nothing(hub, logger_home, point) -> None:
    """SIGKILL after the event is journaled (not sent), or after the hub stored it (not yet acknowledged locally)."""
    hub.up()
    cfg = write_config(logger_home, hub.url, hub.token)
    assert run_cli(logger_home, "start", "--user", "bob", config=cfg).returncode == 0
    killed = run_cli(logger_home, "note", "beam current 1 nA", config=cfg, NXHUB_LOGGER_FAULT=point)
    assert killed.returncode == -signal.SIGKILL
    journaled = uuids_of(logger_home)
    assert [k for k, _ in journaled] == ["START", "NOTE"]  # the journal has it either way
    assert len(hub.events()) == (1 if point == "after-journal" else 2)
    assert "delivered" in run_cli(logger_home, "end", config=cfg).stdout  # the next run resends what was not acknowledged
    assert hub.events() == uuids_of(logger_home)
    assert [k for k, _ in hub.events()] == ["START", "NOTE", "END"]


def test_cli_shows_a_refused_event_and_keeps_it(hub, logger_home) -> None:
    """An event the hub rejects for good is marked refused with the hub's reason, never retried, never dropped."""
    hub.up()
    cfg = write_config(logger_home, hub.url, hub.token)
    run_cli(logger_home, "start", config=cfg)
    journal = Journal(logger_home / "journal.sqlite3")
    session = journal.open_session()
    journal.append("NOTE", session.uuid, text="x" * 20_000)  # over the hub's 10,000-character limit
    journal.close()
    sent = run_cli(logger_home, "note", "a short one", config=cfg)
    assert sent.returncode == 0 and "delivered" in sent.stdout
    status = run_cli(logger_home, "status", config=cfg).stdout
    assert "1 refused" in status and "REFUSED   NOTE" in status and "at most 10000 characters" in status
    assert [k for k, _ in hub.events()] == ["START", "NOTE"]  # the short note went through after the refused one


def test_zipapp_runs_isolated_without_site_packages(hub, logger_home, tmp_path) -> None:
    build = subprocess.run([sys.executable, str(LOGGER_DIR / "build_zipapp.py"), str(tmp_path / "nxhub-logger.pyz")],
                           capture_output=True, text=True, timeout=60)
    assert build.returncode == 0, build.stderr
    hub.up()
    cfg = write_config(logger_home, hub.url, hub.token)
    env = logger_env(logger_home)
    env.pop("PYTHONPATH")
    env.pop("DISPLAY", None)  # no X here: the Tk window (the zipapp's) cannot open and must say so

    def pyz(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-I", "-S", str(tmp_path / "nxhub-logger.pyz"), "--config", str(cfg), *args],
                              env=env, capture_output=True, text=True, timeout=60)

    assert "delivered" in pyz("start", "--user", "alice").stdout
    assert "delivered" in pyz("end").stdout
    assert [k for k, _ in hub.events()] == ["START", "END"]
    assert "2 delivered, 0 queued, 0 refused" in pyz("status").stdout
    no_gui = pyz("gui")  # no PySide6 in the zipapp: the Tk window is chosen, and there is no display
    assert no_gui.returncode == 2 and no_gui.stderr.startswith("error: cannot open the Logger window"), no_gui.stderr
