"""The Logger window: instrument, connection, the running session (elapsed time, files landed), Start / Note / End.

Every action is journaled (committed to disk) before the window shows it;
delivery happens on the sender's thread, which reports back through a Qt
signal. The window never waits for the network.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMainWindow, QPushButton, QVBoxLayout, QWidget

from nxhub_logger import settings as config
from nxhub_logger.faults import crash_point
from nxhub_logger.gui.dialogs import ConfirmDialog, NoteDialog, SetupDialog, StartDialog
from nxhub_logger.gui.style import LINK_BADGES, STYLESHEET
from nxhub_logger.hubclient import HubClient, Refused
from nxhub_logger.journal import REFUSED, UTC, Journal, OpenSession
from nxhub_logger.sender import CONNECTING, OFFLINE, ONLINE, UNAUTHORIZED, Backoff, Link, Sender

ALIVE_EVERY_S = 10


def poll_hub(journal: Journal, client: HubClient) -> dict[str, Any]:
    """Runs on the sender's thread once the queue is empty: files landed this session, today's reservations."""
    out: dict[str, Any] = {}
    session = journal.open_session()
    try:
        if session is not None:
            out["files"] = client.files_since(session.started_at.isoformat())
        out["hub"] = client.reservations()
    except Refused:  # an older hub without these endpoints: the window just shows less
        pass
    return out


def clock_warning(server_time: str | None, now: dt.datetime, tolerance_s: float = 120) -> str | None:
    """A sentence when this PC's clock is off the hub's by more than ``tolerance_s`` (events carry the PC's time)."""
    if not server_time:
        return None
    skew = (now - dt.datetime.fromisoformat(server_time)).total_seconds()
    if abs(skew) <= tolerance_s:
        return None
    minutes = round(abs(skew) / 60)
    return (f"This PC's clock is {minutes} min {'ahead of' if skew > 0 else 'behind'} the hub's. Events are stamped "
            "with this PC's time: ask IT to set the clock right.")


def elapsed_text(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def local(at: dt.datetime) -> str:
    return at.astimezone().strftime("%H:%M")


class _Bridge(QObject):
    """Carries the sender thread's reports onto the GUI thread."""

    link_changed = Signal(object)


class LoggerWindow(QMainWindow):
    def __init__(self, settings: config.Settings, journal: Journal | None = None, run_sender: bool = True) -> None:
        super().__init__()
        self.settings = settings
        self.journal = journal or Journal(settings.journal)
        self.recovery: OpenSession | None = self.journal.interrupted_session()
        alive = self.journal.last_alive()
        # The last sign of life after the interrupted session began (None: it died right after its START).
        self.recovery_alive = alive if self.recovery and alive and alive > self.recovery.started_at else None
        self.journal.mark_alive()
        self.link = Link(CONNECTING, "not contacted yet")
        self.hub_info: dict[str, Any] = json.loads(self.journal.get_meta("hub_info", "{}") or "{}")
        self.session: OpenSession | None = None
        self.dialog: Any = None  # the open dialog, for tests and to avoid stacking two
        self._ticks = 0
        self.setWindowTitle("NexusLIMS Hub Logger")
        self.setStyleSheet(STYLESHEET)
        self.resize(880, 600)
        self._build()
        self.bridge = _Bridge()
        self.bridge.link_changed.connect(self._on_link, Qt.ConnectionType.QueuedConnection)
        self.sender_thread = Sender(
            str(settings.journal), self._client, self.bridge.link_changed.emit, idle_s=settings.poll_s,
            backoff=Backoff(first=min(1.0, settings.retry_cap_s), cap=settings.retry_cap_s), poll=poll_hub)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.timer.start(1000)
        self.refresh()
        if run_sender:  # once the window is up: the operator sees it first
            QTimer.singleShot(0, self.sender_thread.start)

    # -- layout --

    def _build(self) -> None:
        root = QWidget()
        outer = QVBoxLayout(root)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        header = QFrame(objectName="header")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(24, 14, 24, 14)
        titles = QVBoxLayout()
        titles.setSpacing(0)
        titles.addWidget(QLabel("NEXUSLIMS HUB LOGGER", objectName="app"))
        self.instrument_label = QLabel(objectName="instrument")
        titles.addWidget(self.instrument_label)
        hl.addLayout(titles)
        hl.addStretch(1)
        self.badge = QLabel(objectName="badge")
        hl.addWidget(self.badge, alignment=Qt.AlignmentFlag.AlignVCenter)
        outer.addWidget(header)

        body = QVBoxLayout()
        body.setContentsMargins(24, 18, 24, 18)
        body.setSpacing(14)
        self.banner = QFrame(objectName="banner")
        bl = QHBoxLayout(self.banner)
        bl.setContentsMargins(16, 10, 10, 10)
        self.banner_text = QLabel(objectName="bannerText")
        self.banner_text.setWordWrap(True)
        bl.addWidget(self.banner_text, 1)
        self.banner_buttons = [QPushButton(objectName="small"), QPushButton(objectName="small")]
        self.banner_actions: list[Any] = [None, None]
        for index, button in enumerate(self.banner_buttons):
            button.clicked.connect(lambda _checked=False, i=index: self.banner_actions[i] and self.banner_actions[i]())
            bl.addWidget(button)
        body.addWidget(self.banner)

        card = QFrame(objectName="card")
        cl = QVBoxLayout(card)
        cl.setContentsMargins(24, 18, 24, 18)
        self.headline = QLabel(objectName="headline")
        self.elapsed = QLabel(objectName="elapsed")
        self.who = QLabel(objectName="who")
        self.files = QLabel(objectName="files")
        for widget in (self.headline, self.elapsed, self.who, self.files):
            cl.addWidget(widget)
        cl.addStretch(1)
        body.addWidget(card, 1)

        buttons = QHBoxLayout()
        buttons.setSpacing(14)
        self.start_button = QPushButton("Start session", objectName="primary")
        self.note_button = QPushButton("Add note")
        self.end_button = QPushButton("End session", objectName="danger")
        for button, slot in ((self.start_button, self.ask_start), (self.note_button, self.ask_note), (self.end_button, self.ask_end)):
            button.clicked.connect(slot)
            buttons.addWidget(button, 1)
        body.addLayout(buttons)
        self.footer = QLabel(objectName="muted")
        body.addWidget(self.footer)
        outer.addLayout(body, 1)
        self.setCentralWidget(root)

    # -- hub and sender --

    def _client(self) -> HubClient | None:
        s = self.settings
        return HubClient(s.hub_url, s.token, s.timeout_s, s.ca_bundle) if s.complete else None

    def _on_link(self, link: Link) -> None:
        self.link = link
        hub = link.info.get("hub")
        if hub:
            self.hub_info = hub
            self.journal.set_meta("hub_info", json.dumps(hub))
        self.refresh()

    # -- rendering --

    def refresh(self) -> None:
        self.session = self.journal.open_session()
        name = self.hub_info.get("instrument") or self.link.info.get("instrument") or "Instrument not known yet"
        self.instrument_label.setText(name)
        label, _colour = LINK_BADGES.get(self.link.state, LINK_BADGES[OFFLINE])
        if not self.settings.complete:
            label = "Not set up"
        elif self.link.state == OFFLINE and not self.journal.counts()["queued"]:
            label = "Offline"
        self.badge.setText(f"●  {label}")
        self.badge.setProperty("tone", self.link.state if self.settings.complete else "connecting")
        self.badge.style().unpolish(self.badge)
        self.badge.style().polish(self.badge)
        self.badge.updateGeometry()
        busy = self.recovery is not None
        self.start_button.setEnabled(self.session is None and not busy)
        self.note_button.setEnabled(self.session is not None and not busy)
        self.end_button.setEnabled(self.session is not None and not busy)
        self._render_session()
        self._render_banner()
        counts = self.journal.counts()
        self.footer.setText(f"{plural(counts['sent'], 'event')} delivered · {counts['queued']} waiting · {counts['refused']} refused"
                            f"   —   {self.settings.hub_url or 'no hub set'}")

    def _render_session(self) -> None:
        s = self.session
        if s is None:
            self.headline.setText("No session running")
            self.elapsed.setText("Ready")
            self.who.setText("Press Start when you begin working at the microscope.")
            self.files.setText("")
            return
        if s.start_state == REFUSED:
            self.headline.setText("Session refused by the hub")
        else:
            self.headline.setText("Session interrupted" if self.recovery else "Session running")
        self.elapsed.setText(elapsed_text((dt.datetime.now(UTC) - s.started_at).total_seconds()))
        who = s.user or "unknown user"
        self.who.setText(f"{who}  ·  {s.project or 'no project'}  ·  started {local(s.started_at)}")
        files = self.link.info.get("files") or {}
        if files and files.get("since") and dt.datetime.fromisoformat(files["since"]) == s.started_at:
            n = files["count"]
            newest = files.get("newest") or {}
            latest = f"  —  newest: {newest['relpath']}" if newest.get("relpath") else ""
            self.files.setText(f"{plural(n, 'file')} landed since the start{latest}")
        else:
            self.files.setText("Files landed: waiting for the hub")

    def _banner(self, tone: str, text: str, *actions: tuple[str, Any]) -> None:
        self.banner.setProperty("tone", tone)
        self.banner.style().unpolish(self.banner)
        self.banner.style().polish(self.banner)
        self.banner_text.setText(text)
        for index, (button, action) in enumerate(zip(self.banner_buttons, (*actions, None, None))):
            button.setVisible(action is not None)
            self.banner_actions[index] = action[1] if action else None
            if action is not None:
                button.setText(action[0])
        self.banner.show()

    def _render_banner(self) -> None:
        link, counts = self.link, self.journal.counts()
        refused = [ev for ev in self.journal.refused() if ev.seq > int(self.journal.get_meta("refused_seen", "0") or 0)]
        clock = clock_warning(link.info.get("server_time"), dt.datetime.now(UTC)) if link.state == ONLINE else None
        if self.recovery is not None:
            alive = f"last seen running at {local(self.recovery_alive)}" if self.recovery_alive else "no sign of life after that"
            when = "at that time" if self.recovery_alive else "now"
            self._banner("warn", f"The Logger stopped unexpectedly during a session started at {local(self.recovery.started_at)} "
                                 f"({alive}). Continue it, or end it {when}?",
                         ("Continue", self.continue_recovered), ("End it", self.end_recovered))
        elif not self.settings.complete:
            self._banner("info", "This Logger is not connected to a hub yet. Events are kept until it is.",
                         ("Set up…", self.ask_setup))
        elif link.state == UNAUTHORIZED:
            self._banner("error", f"The hub refused this PC's instrument token. {plural(counts['queued'], 'event')} kept safely here; "
                                  "enter a new token from a facility admin.", ("New token…", self.ask_setup))
        elif clock:
            self._banner("warn", clock)
        elif refused:
            ev = refused[-1]
            self._banner("error", f"The hub refused the {ev.kind} of {local(dt.datetime.fromisoformat(ev.at))}: {ev.last_error}. "
                                  "It stays in this PC's journal; tell a facility admin.", ("OK", self.dismiss_refused))
        elif link.state == OFFLINE and counts["queued"]:
            self._banner("warn", f"The hub cannot be reached. {plural(counts['queued'], 'event')} "
                                 "saved on this PC will be sent when it is back.", ("Retry now", self.sender_thread.wake))
        else:
            self.banner.hide()

    def _tick(self) -> None:
        self._ticks += 1
        if self.session is not None:
            self.elapsed.setText(elapsed_text((dt.datetime.now(UTC) - self.session.started_at).total_seconds()))
        if self._ticks % ALIVE_EVERY_S == 0 and self.recovery is None:
            self.journal.mark_alive()

    # -- actions: journal first, then show, then wake the sender --

    def _after_journal(self) -> None:
        crash_point("after-journal")
        self.refresh()
        self.sender_thread.wake()

    def _open(self, dialog: Any, on_accept: Any) -> None:
        self.dialog = dialog
        dialog.accepted.connect(lambda: on_accept(dialog))
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        dialog.open()

    def ask_start(self) -> None:
        self._open(StartDialog(self, self.hub_info, dt.datetime.now(UTC)), self._start)

    def _start(self, dialog: StartDialog) -> None:
        if self.journal.open_session() is None:
            self.journal.start(**dialog.values())
        self._after_journal()

    def ask_note(self) -> None:
        self._open(NoteDialog(self), lambda d: self._note(d.value()))

    def _note(self, text: str) -> None:
        if self.session is not None and text:
            self.journal.note(self.session.uuid, text)
        self._after_journal()

    def ask_end(self) -> None:
        s = self.session
        if s is None:
            return
        mins = int((dt.datetime.now(UTC) - s.started_at).total_seconds() // 60)
        text = f"End the session of {s.user or 'unknown user'} started at {local(s.started_at)} ({mins // 60} h {mins % 60:02d} min)?"
        self._open(ConfirmDialog(self, "End this session?", text, "End session", "Keep running"), lambda d: self._end())

    def _end(self, at: dt.datetime | None = None) -> None:
        session = self.journal.open_session()
        if session is not None:
            self.journal.end(session.uuid, at=at)
        self._after_journal()

    def continue_recovered(self) -> None:
        self.recovery = None
        self.journal.mark_alive()
        self.refresh()

    def end_recovered(self) -> None:
        at = self.recovery_alive  # None: now
        self.recovery = None
        self._end(at)
        self.journal.mark_alive()

    def dismiss_refused(self) -> None:
        refused = self.journal.refused()
        if refused:
            self.journal.set_meta("refused_seen", str(refused[-1].seq))
        self.refresh()

    def ask_setup(self) -> None:
        message = "The hub refused the current token. Enter a new one." if self.link.state == UNAUTHORIZED else ""
        self._open(SetupDialog(self, self.settings.hub_url, message), self._setup)

    def _setup(self, dialog: SetupDialog) -> None:
        self.settings.hub_url, token = dialog.values()
        config.save(self.settings, token)
        self.link = Link(OFFLINE, "reconnecting")
        self.refresh()
        self.sender_thread.wake()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        self.sender_thread.stop()
        self.journal.mark_alive(clean_exit=self.recovery is None)
        super().closeEvent(event)
