"""The fault matrix, driven through the real window against the real hub: whatever the network does,
the hub ends up with exactly the operator's events, in the order they were made."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from loggerkit import FaultProxy, logger_env, write_config
from nxhub_logger.gui.dialogs import SetupDialog
from nxhub_logger.journal import Journal
from windowkit import WAIT_MS, add_note, click, end_session, journal_events, screenshot, start_session


def delivered(hub, window) -> bool:
    return window.journal.counts()["queued"] == 0 and hub.events() == journal_events(window)


def test_hub_down_at_start_and_again_mid_session(qtbot, hub, open_window) -> None:
    window = open_window(hub.url, hub.token)  # the hub is not running yet
    start_session(qtbot, window)
    add_note(qtbot, window, "queued while the hub is away")
    qtbot.waitUntil(lambda: window.link.state == "offline" and window.banner.isVisible(), timeout=WAIT_MS)
    assert "2 events saved on this PC" in window.banner_text.text() and "Offline" in window.badge.text()
    screenshot(window, "offline")
    hub.up()
    qtbot.waitUntil(lambda: delivered(hub, window) and window.link.state == "online", timeout=WAIT_MS)
    assert not window.banner.isVisible()
    hub.down()  # goes away mid-session ...
    add_note(qtbot, window, "while down again")
    end_session(qtbot, window)
    qtbot.waitUntil(lambda: window.link.state == "offline", timeout=WAIT_MS)
    assert len(hub.events()) == 2
    hub.up()  # ... and comes back on the same address
    qtbot.waitUntil(lambda: delivered(hub, window), timeout=WAIT_MS)
    assert [k for k, _ in hub.events()] == ["START", "NOTE", "NOTE", "END"]


@pytest.mark.parametrize("fault", ["500", "slow"])
def test_hub_answering_500_or_too_slowly_through_a_fault_proxy(qtbot, hub, open_window, fault) -> None:
    """Stand-in: a fault-injecting proxy in front of the real hub (500s; answers after the Logger's 1 s timeout)."""
    proxy = FaultProxy(hub.up().port, delay=2.5)
    try:
        window = open_window(proxy.url, hub.token, timeout_s=1)
        qtbot.waitUntil(lambda: window.link.state == "online", timeout=WAIT_MS)
        proxy.mode = fault
        start_session(qtbot, window)
        add_note(qtbot, window, f"during {fault}")
        seen = proxy.requests
        qtbot.waitUntil(lambda: proxy.requests >= seen + 2 and window.link.state == "offline", timeout=WAIT_MS)  # retried
        assert window.journal.counts()["queued"] == 2
        end_session(qtbot, window)
        proxy.mode = "pass"
        qtbot.waitUntil(lambda: delivered(hub, window), timeout=WAIT_MS)
        assert [k for k, _ in hub.events()] == ["START", "NOTE", "END"]  # the slow hub stored them once, replays were no-ops
    finally:
        proxy.stop()


def test_token_revoked_the_window_says_so_and_keeps_the_events(qtbot, hub, open_window) -> None:
    window = open_window(hub.up().url, hub.token)
    start_session(qtbot, window)
    qtbot.waitUntil(lambda: delivered(hub, window), timeout=WAIT_MS)
    new_token = hub.revoke_token()
    add_note(qtbot, window, "after the token was revoked")
    qtbot.waitUntil(lambda: window.link.state == "unauthorized", timeout=WAIT_MS)
    assert "Token refused" in window.badge.text() and "refused this PC's instrument token" in window.banner_text.text()
    assert window.journal.counts()["queued"] == 1 and len(hub.events()) == 1
    screenshot(window, "token-refused")
    click(qtbot, window.banner_buttons[0])  # "New token…"
    assert isinstance(window.dialog, SetupDialog)
    window.dialog.token.setText(new_token)
    click(qtbot, window.dialog.ok)
    end_session(qtbot, window)
    qtbot.waitUntil(lambda: delivered(hub, window), timeout=WAIT_MS)
    assert [k for k, _ in hub.events()] == ["START", "NOTE", "END"]


def test_refused_event_stays_in_the_journal_and_is_shown(qtbot, hub, open_window) -> None:
    window = open_window(hub.up().url, hub.token)
    start_session(qtbot, window)
    window.journal.append("NOTE", window.session.uuid, text="x" * 20_000)  # the hub refuses notes over 10,000 characters
    add_note(qtbot, window, "a normal note")
    qtbot.waitUntil(lambda: "The hub refused the NOTE" in window.banner_text.text(), timeout=WAIT_MS)
    assert window.journal.counts()["refused"] == 1 and window.journal.counts()["queued"] == 0
    assert "10000 characters" in window.banner_text.text() and "stays in this PC's journal" in window.banner_text.text()
    screenshot(window, "refused")
    click(qtbot, window.banner_buttons[0])  # "OK": seen; the event stays in the journal, marked refused
    assert not window.banner.isVisible() and window.journal.refused()[0].kind == "NOTE"
    assert [k for k, _ in hub.events()] == ["START", "NOTE"]


CRASHING_WINDOW = """
import os, signal, sys, time
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from nxhub_logger import settings as config
from nxhub_logger.gui import window as logger_window
window = logger_window.LoggerWindow(config.load(sys.argv[1]), run_sender=False)  # the hub never hears of it
window.show()
window.ask_start()
window.dialog.user.setEditText("bob")
window.dialog.accept()  # journaled
time.sleep(1.1)
for _ in range(logger_window.ALIVE_EVERY_S):  # the window's clock ticks: it marks itself alive
    window._tick()
os.kill(os.getpid(), signal.SIGKILL)  # the power cut
"""


def test_window_killed_mid_session_is_recovered_on_next_start(qtbot, hub, open_window, logger_home) -> None:
    cfg = write_config(logger_home, hub.url, hub.token)
    crashed = subprocess.run([sys.executable, "-c", CRASHING_WINDOW, str(cfg)], capture_output=True, text=True, timeout=60,
                             env=logger_env(logger_home))
    assert crashed.returncode == -signal.SIGKILL, crashed.stdout + crashed.stderr
    window = open_window(hub.up().url, hub.token)
    assert window.recovery is not None and window.headline.text() == "Session interrupted"
    assert "stopped unexpectedly" in window.banner_text.text() and "last seen running at" in window.banner_text.text()
    assert not window.start_button.isEnabled() and not window.end_button.isEnabled()
    qtbot.waitUntil(lambda: delivered(hub, window) and window.link.state == "online", timeout=WAIT_MS)  # the queued START goes out
    screenshot(window, "recovered")
    click(qtbot, window.banner_buttons[1])  # "End it": at the time the Logger was last seen alive
    qtbot.waitUntil(lambda: delivered(hub, window), timeout=WAIT_MS)
    events = window.journal.events()
    assert [(e.kind, e.body.get("user")) for e in events] == [("START", "bob"), ("END", None)]
    started = dt.datetime.fromisoformat(events[0].at)
    assert window.recovery_alive > started and events[1].at == window.recovery_alive.isoformat()  # not when "End it" was pressed
    assert [k for k, _ in hub.events()] == ["START", "END"] and window.recovery is None and window.start_button.isEnabled()


def test_second_start_brings_the_first_window_forward(logger_home, hub) -> None:
    cfg = write_config(logger_home, hub.url, hub.token)
    cmd = [sys.executable, "-m", "nxhub_logger", "--config", str(cfg), "gui"]
    first = subprocess.Popen(cmd, env=logger_env(logger_home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while Journal(logger_home / "journal.sqlite3").last_alive() is None:  # the window is up (it listens before that)
            assert time.monotonic() < deadline and first.poll() is None, first.communicate()
            time.sleep(0.2)
        second = subprocess.run(cmd, env=logger_env(logger_home), capture_output=True, text=True, timeout=30)
        assert second.returncode == 0 and "already running" in second.stdout, second.stdout + second.stderr
        assert first.poll() is None
    finally:
        os.kill(first.pid, signal.SIGTERM)
        first.wait(10)


def test_a_refused_start_holds_back_its_session_and_the_operator_can_close_it(qtbot, hub, open_window) -> None:
    """Sending the NOTE or END of a session whose START was refused would open a session the hub never accepted."""
    window = open_window(hub.up().url, hub.token)
    window.journal.start("alice", text="y" * 20_000)  # a START the hub refuses for good
    window.refresh()
    add_note(qtbot, window, "the operator keeps working")
    qtbot.waitUntil(lambda: window.headline.text() == "Session refused by the hub", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.journal.counts() == {"queued": 0, "sent": 0, "refused": 2}, timeout=WAIT_MS)
    assert "The hub refused the NOTE" in window.banner_text.text() or "The hub refused the START" in window.banner_text.text()
    end_session(qtbot, window)  # closes it on this PC; nothing of it reaches the hub
    qtbot.waitUntil(lambda: window.journal.counts()["refused"] == 3, timeout=WAIT_MS)
    note = window.journal.events()[1]
    assert note.last_error.startswith("not sent: the hub refused this session's START (400: ")
    assert "text must be at most 10000 characters" in note.last_error
    assert hub.events() == [] and window.start_button.isEnabled()
    start_session(qtbot, window)  # a new session goes through as usual
    qtbot.waitUntil(lambda: [k for k, _ in hub.events()] == ["START"], timeout=WAIT_MS)
