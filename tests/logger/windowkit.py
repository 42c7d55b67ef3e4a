"""Driving the real Logger window in tests: clicks through its dialogs, screenshots (to a temporary folder, see shotkit)."""

from __future__ import annotations

import loggerkit  # noqa: F401  (puts the Logger package on sys.path)
from nxhub_logger.gui.dialogs import ConfirmDialog, NoteDialog, StartDialog
from nxhub_logger.gui.window import LoggerWindow
from PySide6.QtCore import Qt
from shotkit import path_for

WAIT_MS = 20_000


def click(qtbot, button) -> None:
    assert button.isEnabled() and button.isVisible(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def screenshot(window: LoggerWindow, name: str) -> None:
    window.repaint()
    assert window.grab().save(str(path_for(f"logger-{name}")))


def journal_events(window: LoggerWindow) -> list[tuple[str, str]]:
    return [(ev.kind, ev.uuid) for ev in window.journal.events()]


def start_session(qtbot, window: LoggerWindow, note: str = "", shot: str = "", user: str = "bob") -> StartDialog:
    click(qtbot, window.start_button)
    dialog = window.dialog
    assert isinstance(dialog, StartDialog)
    if not dialog.user.currentText():  # no reservation to pre-fill from: type the user as an operator would
        dialog.user.setEditText(user)
    if note:
        dialog.note.setText(note)
    if shot:
        assert dialog.grab().save(str(path_for(f"logger-{shot}")))
    click(qtbot, dialog.ok)
    return dialog


def add_note(qtbot, window: LoggerWindow, text: str) -> None:
    click(qtbot, window.note_button)
    assert isinstance(window.dialog, NoteDialog)
    window.dialog.text.setPlainText(text)
    click(qtbot, window.dialog.ok)


def end_session(qtbot, window: LoggerWindow) -> None:
    click(qtbot, window.end_button)
    assert isinstance(window.dialog, ConfirmDialog)
    click(qtbot, window.dialog.ok)
