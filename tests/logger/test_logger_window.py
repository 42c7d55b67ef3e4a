"""The real Logger window (pytest-qt, offscreen) against a real API server on loopback; screenshots of each state."""

from __future__ import annotations

import datetime as dt
import time

from windowkit import WAIT_MS, add_note, click, end_session, journal_events, screenshot, start_session

from nexuslims_kernel.db.models import IndexedFile, Instrument, InstrumentSession, Person, Project

UTC = dt.UTC


def test_start_note_end_clicked_in_the_window_reach_the_hub(qtbot, hub, db, open_window) -> None:
    now = dt.datetime.now(UTC)
    # Today's next reservation: alice, catalysis, in a minute (one running now would be an overlap the hub refuses).
    with db.session(write=True) as sess:
        ids = {n: sess.query(m.id).filter(m.name == n).scalar() for m, n in ((Instrument, "titan"), (Project, "catalysis"))}
        alice = sess.query(Person.id).filter(Person.username == "alice").scalar()
        sess.add(InstrumentSession(instrument_id=ids["titan"], person_id=alice, project_id=ids["catalysis"], source="nemo",
                                   external_id="usage-1", start=now + dt.timedelta(seconds=60), end=now + dt.timedelta(hours=2),
                                   status="WAITING_FOR_END", reservation={"title": "Pt/CeO2 in situ"}))
    window = open_window(hub.up().url, hub.token)
    qtbot.waitUntil(lambda: window.link.state == "online" and bool(window.hub_info.get("users")), timeout=WAIT_MS)
    assert window.instrument_label.text() == "titan" and "Connected" in window.badge.text()
    assert not window.end_button.isEnabled() and not window.note_button.isEnabled()
    screenshot(window, "idle")

    dialog = start_session(qtbot, window, note="holder A", shot="start-dialog")
    assert dialog.values()["user"] == "alice" and dialog.values()["project"] == "catalysis"  # pre-filled from the reservation
    assert window.headline.text() == "Session running"  # shown at once: the journal has it
    qtbot.waitUntil(lambda: [k for k, _ in hub.events()] == ["START"], timeout=WAIT_MS)
    with db.session(write=True) as sess:  # two files land in the store after the start, one before it
        for name, age in (("before.dm3", 3600), ("a.dm3", -5), ("b.dm3", -10)):
            sess.add(IndexedFile(instrument_id=ids["titan"], relpath=name, size=10, mtime=time.time() - age))
    qtbot.waitUntil(lambda: window.files.text().startswith("2 files landed"), timeout=WAIT_MS)
    screenshot(window, "running")

    add_note(qtbot, window, "tilted to 20°, <b>not</b> HTML")
    click(qtbot, window.end_button)
    click(qtbot, window.dialog.cancel)  # "Keep running": nothing happens
    assert window.session is not None and [k for k, _ in journal_events(window)] == ["START", "NOTE"]
    end_session(qtbot, window)
    assert window.headline.text() == "No session running"
    qtbot.waitUntil(lambda: hub.events() == journal_events(window), timeout=WAIT_MS)
    assert [k for k, _ in hub.events()] == ["START", "NOTE", "END"]
    with db.session() as sess:
        s = sess.query(InstrumentSession).filter(InstrumentSession.source == "logger").one()
        assert (s.person.username, s.project.name, s.status) == ("alice", "catalysis", "TO_BE_BUILT")
        assert s.note == "holder A\ntilted to 20°, <b>not</b> HTML"


def test_first_run_asks_for_hub_and_token_and_keeps_the_token_private(qtbot, hub, logger_home) -> None:
    import stat

    from nxhub_logger import settings as config
    from nxhub_logger.gui.dialogs import SetupDialog
    from nxhub_logger.gui.window import LoggerWindow

    window = LoggerWindow(config.load())  # nothing configured yet
    qtbot.addWidget(window)
    window.show()
    try:
        assert "Not set up" in window.badge.text() and "not connected to a hub yet" in window.banner_text.text()
        click(qtbot, window.banner_buttons[0])  # "Set up…"
        dialog = window.dialog
        assert isinstance(dialog, SetupDialog) and not dialog.ok.isEnabled()
        dialog.hub.setText(hub.up().url)
        dialog.token.setText(hub.token)
        click(qtbot, dialog.ok)
        qtbot.waitUntil(lambda: window.link.state == "online", timeout=WAIT_MS)
        assert window.instrument_label.text() == "titan"
        token_file = logger_home / "token"  # no keyring in tests: a file only the user can read
        assert token_file.read_text() == hub.token and stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert hub.token not in (logger_home / "config.json").read_text()
    finally:
        window.close()


def test_clock_warning_when_the_pc_clock_is_off() -> None:
    from nxhub_logger.gui.window import clock_warning

    hub_time = dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert clock_warning(hub_time.isoformat(), hub_time + dt.timedelta(seconds=90)) is None
    assert "7 min ahead of the hub's" in clock_warning(hub_time.isoformat(), hub_time + dt.timedelta(minutes=7))
    assert "60 min behind the hub's" in clock_warning(hub_time.isoformat(), hub_time - dt.timedelta(hours=1))
    assert clock_warning(None, hub_time) is None


def test_start_dialog_offers_each_users_own_projects_when_the_hub_says_which(qtbot) -> None:
    from nxhub_logger.gui.dialogs import StartDialog

    hub_info = {"users": [{"username": "alice", "display_name": None, "projects": ["catalysis"]},
                          {"username": "bob", "display_name": "Bob", "projects": ["batteries", "open-lab"]}],
                "projects": ["batteries", "catalysis", "open-lab"], "reservations": []}
    dialog = StartDialog(None, hub_info, dt.datetime.now(UTC))
    qtbot.addWidget(dialog)
    projects = lambda: [dialog.project.itemText(i) for i in range(1, dialog.project.count())]  # noqa: E731
    assert projects() == ["batteries", "catalysis", "open-lab"] and dialog.user.currentText() == ""
    dialog.user.setCurrentIndex(dialog.user.findData("bob"))
    assert projects() == ["batteries", "open-lab"]
    dialog.project.setCurrentIndex(1)
    assert dialog.values()["user"] == "bob" and dialog.values()["project"] == "batteries"
