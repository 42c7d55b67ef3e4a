"""The window's dialogs: first-run set-up, start (user and project), note, and the confirm before ending.

Each dialog is opened with ``open()`` (window-modal, non-blocking), so the
window keeps its clock and connection state live behind it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nxhub_logger.view import SETUP_HINT, pick_reservation, reservation_text


def _buttons(dialog: QDialog, ok_text: str, ok_name: str = "primary") -> tuple[QHBoxLayout, QPushButton, QPushButton]:
    row = QHBoxLayout()
    cancel = QPushButton("Cancel")
    ok = QPushButton(ok_text)
    ok.setObjectName(ok_name)
    ok.setDefault(True)
    cancel.clicked.connect(dialog.reject)
    ok.clicked.connect(dialog.accept)
    row.addStretch(1)
    row.addWidget(cancel)
    row.addWidget(ok)
    return row, ok, cancel


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    form.setVerticalSpacing(12)
    return form


def _row(form: QFormLayout, text: str, field: QWidget) -> None:
    label = QLabel(text)
    label.setMinimumHeight(52)  # the fields' height, so the label sits level with the text in them
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.addRow(label, field)


def _dialog_layout(dialog: QDialog) -> QVBoxLayout:
    layout = QVBoxLayout(dialog)
    layout.setContentsMargins(24, 20, 24, 20)
    layout.setSpacing(14)
    return layout


def _title(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("headline")
    return label


class SetupDialog(QDialog):
    """First run (or a revoked token): the hub's address and this instrument's token."""

    def __init__(self, parent: QWidget | None, hub_url: str = "", message: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect the Logger to the hub")
        self.setMinimumWidth(640)
        layout = _dialog_layout(self)
        layout.addWidget(_title("Connect to NexusLIMS Hub"))
        hint = QLabel(message or SETUP_HINT)
        hint.setWordWrap(True)
        hint.setObjectName("muted")
        layout.addWidget(hint)
        form = _form()
        self.hub = QLineEdit(hub_url)
        self.hub.setPlaceholderText("https://hub.example.org/services/api")
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("instrument token")
        _row(form, "Hub address", self.hub)
        _row(form, "Instrument token", self.token)
        layout.addLayout(form)
        row, self.ok, self.cancel = _buttons(self, "Save")
        layout.addLayout(row)
        self.ok.setEnabled(False)
        for edit in (self.hub, self.token):
            edit.textChanged.connect(self._check)
        self._check()

    def _check(self) -> None:
        url = self.hub.text().strip()
        self.ok.setEnabled(url.startswith(("http://", "https://")) and bool(self.token.text().strip()))

    def values(self) -> tuple[str, str]:
        return self.hub.text().strip(), self.token.text().strip()


class StartDialog(QDialog):
    """Who is at the microscope and for which project, pre-filled from today's reservation."""

    def __init__(self, parent: QWidget | None, hub_info: dict[str, Any], now: dt.datetime) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start a session")
        self.setMinimumWidth(640)
        layout = _dialog_layout(self)
        layout.addWidget(_title("Start a session"))
        self.reservation = pick_reservation(hub_info.get("reservations") or [], now)
        note = QLabel(reservation_text(self.reservation))
        note.setObjectName("muted")
        note.setWordWrap(True)
        layout.addWidget(note)
        form = _form()
        self.user = QComboBox()
        self.user.setEditable(True)
        for person in hub_info.get("users") or []:
            label = person["username"] + (f" — {person['display_name']}" if person.get("display_name") else "")
            self.user.addItem(label, person["username"])
        self.all_projects = list(hub_info.get("projects") or [])
        # A hub with session rules lists, per user, the projects they may pick.
        self.projects_of = {p["username"]: p["projects"] for p in hub_info.get("users") or [] if "projects" in p}
        self.project = QComboBox()
        self.project.setEditable(True)
        self._fill_projects(None)
        self.user.currentIndexChanged.connect(lambda _i: self._fill_projects(self._value(self.user)))
        self.note = QLineEdit()
        self.note.setPlaceholderText("optional: sample, goal …")
        _row(form, "User", self.user)
        _row(form, "Project", self.project)
        _row(form, "Note", self.note)
        layout.addLayout(form)
        row, self.ok, self.cancel = _buttons(self, "Start session")
        layout.addLayout(row)
        self._prefill()

    def _fill_projects(self, user: str | None) -> None:
        keep = self.project.currentText()
        self.project.clear()
        self.project.addItem("", None)
        for name in self.projects_of.get(user, self.all_projects) if user else self.all_projects:
            self.project.addItem(name, name)
        self.project.setEditText(keep)

    def _prefill(self) -> None:
        res = self.reservation or {}
        for combo, value in ((self.user, res.get("user")), (self.project, res.get("project"))):
            if not value:
                continue
            index = combo.findData(value)
            if index >= 0:
                combo.setCurrentIndex(index)
            else:
                combo.setEditText(value)
        if not res.get("user"):
            self.user.setCurrentIndex(-1)
            self.user.setEditText("")

    @staticmethod
    def _value(combo: QComboBox) -> str | None:
        text = combo.currentText().strip()
        if not text:
            return None
        index = combo.findText(text, Qt.MatchFlag.MatchExactly)
        data = combo.itemData(index) if index >= 0 else None
        return data or text.split(" — ")[0].strip()

    def values(self) -> dict[str, Any]:
        res = self.reservation or {}
        reservation = {k: res[k] for k in ("title", "id") if res.get(k)}
        return {"user": self._value(self.user), "project": self._value(self.project),
                "text": self.note.text().strip() or None, "reservation": reservation or None}


class NoteDialog(QDialog):
    """A free-text note for the running session."""

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a note")
        self.setMinimumWidth(640)
        layout = _dialog_layout(self)
        layout.addWidget(_title("Add a note"))
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("What changed: sample, holder, alignment, a problem …")
        self.text.setMinimumHeight(160)
        layout.addWidget(self.text)
        row, self.ok, self.cancel = _buttons(self, "Save note")
        layout.addLayout(row)
        self.ok.setEnabled(False)
        self.text.textChanged.connect(lambda: self.ok.setEnabled(bool(self.value())))

    def value(self) -> str:
        return self.text.toPlainText().strip()


class ConfirmDialog(QDialog):
    """A plain yes/no with large buttons (a stray tap with a glove must not end a session)."""

    def __init__(self, parent: QWidget | None, title: str, text: str, ok_text: str, cancel_text: str = "Cancel") -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(560)
        layout = _dialog_layout(self)
        layout.addWidget(_title(title))
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)
        row, self.ok, self.cancel = _buttons(self, ok_text, "danger")
        self.cancel.setText(cancel_text)
        self.cancel.setDefault(True)  # Enter keeps the session running
        self.ok.setDefault(False)
        layout.addLayout(row)
