"""The Tk Logger window (the zipapp's, for PCs without PySide6) under Xvfb, against a real API server on loopback.

Driven as an operator would: buttons invoked, dialogs filled; the hub goes down, the
window is closed and reopened, the process is killed with SIGKILL mid-send; each time
the journal and the hub end with the same events, none lost and none twice.
"""

from __future__ import annotations

import datetime as dt
import gc
import signal
import subprocess
import sys
import time

import pytest
from loggerkit import LOGGER_DIR, FaultProxy, logger_env, write_config
from tkkit import add_note, end_session, invoke, journal_events, pump, screenshot, start_session, wait_until, xvfb  # noqa: F401

from nexuslims_kernel.db.models import Instrument, InstrumentSession, Person, Project

UTC = dt.UTC
KEPT_WINDOWS: list = []  # see open_tk


@pytest.fixture
def open_tk(xvfb, logger_home):  # noqa: F811 -- the fixture imported above
    """Opens Tk Logger windows on a config file; closes them (stopping their sender threads) at the end."""
    from nxhub_logger import settings as config
    from nxhub_logger.tkwindow import TkLoggerWindow

    windows = []

    def make(hub_url: str | None = None, token: str = "", **extra):
        cfg = write_config(logger_home, hub_url, token, **extra) if hub_url else None
        window = TkLoggerWindow(config.load(cfg))
        windows.append(window)
        pump(window, 0.1)
        return window

    yield make
    for window in windows:
        window.close()
    # A Tk interpreter freed on any thread but the one that made it aborts the whole process ("async handler deleted
    # by the wrong thread") -- and a later test's server thread may run the cyclic GC. So closed windows (and their
    # Tk roots) are kept for the life of the test process; collecting here was not enough (a traceback can hold one).
    KEPT_WINDOWS.extend(windows)
    windows.clear()
    gc.collect()


def delivered(hub, window) -> bool:
    return window.journal.counts()["queued"] == 0 and hub.events() == journal_events(window)


def test_tk_start_note_end_clicked_reach_the_hub(hub, db, open_tk, tmp_path) -> None:
    now = dt.datetime.now(UTC)
    with db.session(write=True) as sess:  # today's next reservation: alice, catalysis, in a minute
        ids = {n: sess.query(m.id).filter(m.name == n).scalar() for m, n in ((Instrument, "titan"), (Project, "catalysis"))}
        alice = sess.query(Person.id).filter(Person.username == "alice").scalar()
        sess.add(InstrumentSession(instrument_id=ids["titan"], person_id=alice, project_id=ids["catalysis"], source="nemo",
                                   external_id="usage-1", start=now + dt.timedelta(seconds=60), end=now + dt.timedelta(hours=2),
                                   status="WAITING_FOR_END", reservation={"title": "Pt/CeO2 in situ"}))
    window = open_tk(hub.up().url, hub.token)
    wait_until(window, lambda: window.link.state == "online" and bool(window.hub_info.get("users")))
    assert window.instrument_label["text"] == "titan" and "Connected" in window.badge["text"]
    assert str(window.end_button["state"]) == "disabled" and str(window.note_button["state"]) == "disabled"
    screenshot(window, tmp_path / "logger-tk-idle.png")

    dialog = start_session(window, note="holder A", shot=tmp_path / "logger-tk-start-dialog.png")
    assert dialog.values()["user"] == "alice" and dialog.values()["project"] == "catalysis"  # pre-filled from the reservation
    assert window.headline_text == "Session running" and window.dialog is None  # shown at once: the journal has it
    wait_until(window, lambda: [k for k, _ in hub.events()] == ["START"])
    add_note(window, "tilted to 20°, <b>not</b> HTML")
    screenshot(window, tmp_path / "logger-tk-running.png")
    invoke(window, window.end_button)
    invoke(window, window.dialog.cancel)  # "Keep running": nothing happens
    assert window.session is not None and [k for k, _ in journal_events(window)] == ["START", "NOTE"]
    end_session(window)
    assert window.headline_text == "No session running"
    wait_until(window, lambda: delivered(hub, window))
    assert [k for k, _ in hub.events()] == ["START", "NOTE", "END"]
    with db.session() as sess:
        s = sess.query(InstrumentSession).filter(InstrumentSession.source == "logger").one()
        assert (s.person.username, s.project.name, s.status) == ("alice", "catalysis", "TO_BE_BUILT")
        assert s.note == "holder A\ntilted to 20°, <b>not</b> HTML"


def test_tk_hub_down_keeps_events_and_replays_them_after_a_restart(hub, open_tk, tmp_path) -> None:
    window = open_tk(hub.url, hub.token)  # the hub is not running
    start_session(window)
    add_note(window, "queued while the hub is away")
    wait_until(window, lambda: window.link.state == "offline" and window.banner_shown)
    assert "The hub cannot be reached. 2 events saved on this PC" in window.banner_text["text"]
    assert "Offline" in window.badge["text"] and hub.events() == []
    screenshot(window, tmp_path / "logger-tk-offline.png")
    invoke(window, window.banner_buttons[0])  # "Retry now": still down, still kept
    pump(window, 0.5)
    assert window.journal.counts()["queued"] == 2
    window.close()  # the operator quits (or the PC is restarted) with the hub still away

    hub.up()
    again = open_tk(hub.url, hub.token)
    assert again.recovery is None and again.headline_text == "Session running"  # a clean quit: no recovery question
    wait_until(again, lambda: delivered(hub, again) and again.link.state == "online")
    assert not again.banner_shown
    end_session(again)
    wait_until(again, lambda: delivered(hub, again))
    kinds_uuids = hub.events()
    assert [k for k, _ in kinds_uuids] == ["START", "NOTE", "END"] and len({u for _, u in kinds_uuids}) == 3


@pytest.mark.parametrize("fault", ["500", "slow"])
def test_tk_hub_answering_500_or_too_slowly_stores_each_event_once(hub, open_tk, fault) -> None:
    """A fault proxy in front of the real hub: 500s, or answers after the Logger gave up (so it resends what was stored)."""
    proxy = FaultProxy(hub.up().port, delay=2.5)
    try:
        window = open_tk(proxy.url, hub.token, timeout_s=1)
        wait_until(window, lambda: window.link.state == "online")
        proxy.mode = fault
        start_session(window)
        add_note(window, "during " + fault)
        seen = proxy.requests
        wait_until(window, lambda: proxy.requests >= seen + 2 and window.link.state == "offline")  # retried
        assert window.journal.counts()["queued"] == 2 and "2 events saved on this PC" in window.banner_text["text"]
        end_session(window)
        proxy.mode = "pass"
        wait_until(window, lambda: delivered(hub, window))
        assert [k for k, _ in hub.events()] == ["START", "NOTE", "END"]  # the slow hub stored them once, replays were no-ops
    finally:
        proxy.stop()


def test_tk_token_revoked_says_so_keeps_the_events_and_takes_a_new_one(hub, open_tk) -> None:
    window = open_tk(hub.up().url, hub.token)
    start_session(window)
    wait_until(window, lambda: delivered(hub, window))
    new_token = hub.revoke_token()
    add_note(window, "after the token was revoked")
    wait_until(window, lambda: window.link.state == "unauthorized")
    assert "Token refused" in window.badge["text"] and "refused this PC's instrument token" in window.banner_text["text"]
    assert window.journal.counts()["queued"] == 1 and len(hub.events()) == 1
    invoke(window, window.banner_buttons[0])  # "New token…"
    window.dialog.token.insert(0, new_token)
    invoke(window, window.dialog.ok)
    end_session(window)
    wait_until(window, lambda: delivered(hub, window))
    assert [k for k, _ in hub.events()] == ["START", "NOTE", "END"]


def test_tk_refused_event_stays_in_the_journal_and_is_shown(hub, open_tk) -> None:
    window = open_tk(hub.up().url, hub.token)
    start_session(window)
    window.journal.append("NOTE", window.session.uuid, text="x" * 20_000)  # the hub refuses notes over 10,000 characters
    add_note(window, "a normal note")
    # the sender may meet the long note alone or with the normal one: wait for both to be answered
    wait_until(window, lambda: "The hub refused the NOTE" in window.banner_text["text"] and window.journal.counts()["queued"] == 0)
    assert window.journal.counts()["refused"] == 1
    assert "10000 characters" in window.banner_text["text"] and "stays in this PC's journal" in window.banner_text["text"]
    invoke(window, window.banner_buttons[0])  # "OK": seen; the event stays in the journal, marked refused
    assert not window.banner_shown and window.journal.refused()[0].kind == "NOTE"
    assert [k for k, _ in hub.events()] == ["START", "NOTE"]


CRASHING_TK = """
import sys, time
from nxhub_logger import settings as config
from nxhub_logger.tkwindow import TkLoggerWindow
window = TkLoggerWindow(config.load(sys.argv[1]))
deadline = time.time() + 30
while window.link.state != "online" and time.time() < deadline:  # the hub answered the first heartbeat
    window.root.update(); time.sleep(0.02)
window.start_button.invoke()
window.dialog.user.set("bob")
window.dialog.ok.invoke()  # journaled; NXHUB_LOGGER_FAULT kills this process right after that, or after the hub stored it
while time.time() < deadline:
    window.root.update(); time.sleep(0.02)
print("not killed:", window.link.state, window.journal.counts())
"""


@pytest.mark.parametrize("point", ["after-journal", "after-send"])
def test_tk_killed_mid_send_loses_and_duplicates_nothing(hub, open_tk, logger_home, xvfb, point) -> None:  # noqa: F811
    cfg = write_config(logger_home, hub.up().url, hub.token)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_TK, str(cfg)], capture_output=True, text=True, timeout=60,
                             env=logger_env(logger_home, DISPLAY=xvfb, NXHUB_LOGGER_FAULT=point))
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    assert len(hub.events()) == (0 if point == "after-journal" else 1)  # the hub has it, or not yet
    window = open_tk(hub.url, hub.token)
    assert window.recovery is not None and window.headline_text == "Session interrupted"
    assert "stopped unexpectedly" in window.banner_text["text"]
    wait_until(window, lambda: delivered(hub, window))  # the queued START goes out once; a replay is a no-op
    invoke(window, window.banner_buttons[0])  # "Continue"
    end_session(window)
    wait_until(window, lambda: delivered(hub, window))
    assert [(e.kind, e.body.get("user")) for e in window.journal.events()] == [("START", "bob"), ("END", None)]
    assert [k for k, _ in hub.events()] == ["START", "END"]


def test_tk_first_run_asks_for_hub_and_token_and_keeps_the_token_private(hub, open_tk, logger_home) -> None:
    import stat

    window = open_tk()  # nothing configured yet
    assert "Not set up" in window.badge["text"] and "not connected to a hub yet" in window.banner_text["text"]
    invoke(window, window.banner_buttons[0])  # "Set up…"
    dialog = window.dialog
    invoke(window, dialog.ok)  # empty: says what is missing, stays open
    assert window.dialog is dialog and "http:// or https://" in dialog.hint["text"]
    dialog.hub.insert(0, hub.up().url)
    dialog.token.insert(0, hub.token)
    invoke(window, dialog.ok)
    wait_until(window, lambda: window.link.state == "online")
    assert window.instrument_label["text"] == "titan"
    token_file = logger_home / "token"  # no keyring in tests: a file only the user can read
    assert token_file.read_text() == hub.token and stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert hub.token not in (logger_home / "config.json").read_text()


def test_zipapp_without_pyside6_opens_the_tk_window_once(hub, logger_home, tmp_path, xvfb) -> None:  # noqa: F811
    """`python nxhub-logger.pyz` with no site-packages (so no PySide6): the Tk window comes up; a second start raises it."""
    from nxhub_logger.journal import Journal

    pyz = tmp_path / "nxhub-logger.pyz"
    build = subprocess.run([sys.executable, str(LOGGER_DIR / "build_zipapp.py"), str(pyz)], capture_output=True, text=True, timeout=60)
    assert build.returncode == 0, build.stderr
    cfg = write_config(logger_home, hub.up().url, hub.token)
    env = logger_env(logger_home, DISPLAY=xvfb)
    env.pop("PYTHONPATH")
    proc = subprocess.Popen([sys.executable, "-I", "-S", str(pyz), "--config", str(cfg)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        journal = Journal(logger_home / "journal.sqlite3")
        deadline = time.monotonic() + 30
        while journal.last_alive() is None or journal.get_meta("hub_info") is None:  # the window is up and reached the hub
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        assert '"instrument": "titan"' in journal.get_meta("hub_info")
        journal.close()
        second = subprocess.run([sys.executable, "-I", "-S", str(pyz), "--config", str(cfg)], env=env, capture_output=True,
                                text=True, timeout=30)  # a second double-click: the first window comes forward
        assert second.returncode == 0 and "already running" in second.stdout, second.stdout + second.stderr
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
