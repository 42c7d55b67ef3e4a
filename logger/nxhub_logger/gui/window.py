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
from nxhub_logger import view
from nxhub_logger.faults import crash_point
from nxhub_logger.gui.dialogs import ConfirmDialog, NoteDialog, SetupDialog, StartDialog
from nxhub_logger.gui.style import STYLESHEET
from nxhub_logger.hubclient import HubClient
from nxhub_logger.journal import UTC, Journal, OpenSession
from nxhub_logger.sender import CONNECTING, OFFLINE, UNAUTHORIZED, Backoff, Link, Sender
from nxhub_logger.view import ALIVE_EVERY_S, clock_warning, elapsed_text, poll_hub  # noqa: F401 -- clock_warning: tests


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
        label, tone = view.badge(self.link, self.settings.complete, self.journal.counts()["queued"])
        self.badge.setText(f"●  {label}")
        self.badge.setProperty("tone", tone)
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
        self.footer.setText(view.footer(counts, self.settings.hub_url))

    def _render_session(self) -> None:
        texts = view.session_texts(self.session, self.recovery is not None, self.link.info, dt.datetime.now(UTC))
        for name in ("headline", "elapsed", "who", "files"):
            getattr(self, name).setText(texts[name])

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
        shown = view.banner(self.link, self.journal.counts(), view.unseen_refused(self.journal), self.recovery,
                            self.recovery_alive, self.settings.complete, dt.datetime.now(UTC))
        if shown is None:
            self.banner.hide()
            return
        tone, text, actions = shown
        self._banner(tone, text, *[(label, getattr(self, name)) for label, name in actions])

    def retry_now(self) -> None:
        self.sender_thread.wake()

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
        text = view.end_question(s, dt.datetime.now(UTC))
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
        message = view.TOKEN_REFUSED_HINT if self.link.state == UNAUTHORIZED else ""
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
