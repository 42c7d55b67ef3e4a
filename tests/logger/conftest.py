"""Logger test fixtures: Qt offscreen, the logger package importable, a hub that can go down and come back."""

from __future__ import annotations

from pathlib import Path

import pytest
from loggerkit import Hub, free_port, write_config

from nexuslims_kernel.db.directory import add_instrument, add_person, add_project, issue_instrument_token


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The Logger is a client: one server backend (SQLite) is enough; the protocol itself is tested on both in tests/api."""
    return f"sqlite:///{tmp_path / 'nxhub.db'}"


@pytest.fixture
def hub(settings, db):
    """The hub with an instrument, two people and a project; not started (call ``hub.up()``)."""
    with db.session(write=True) as sess:
        add_instrument(sess, "titan")
        add_person(sess, "alice", display_name="Alice Liddell")
        add_person(sess, "bob")
        add_project(sess, "catalysis")
        token = issue_instrument_token(sess, "titan")
    h = Hub(settings, db, free_port(), token)
    yield h
    h.down()


@pytest.fixture
def logger_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "logger-home"
    home.mkdir()
    monkeypatch.setenv("NXHUB_LOGGER_HOME", str(home))
    monkeypatch.setenv("NXHUB_LOGGER_KEYRING", "0")  # never touch the machine's keyring
    return home


@pytest.fixture
def open_window(qtbot, logger_home):
    """Opens Logger windows on a config file; closes them (stopping their sender threads) at the end."""
    windows = []

    def make(hub_url: str, token: str, **extra) -> object:
        from nxhub_logger import settings as config
        from nxhub_logger.gui.window import LoggerWindow  # Qt only for the window tests

        window = LoggerWindow(config.load(write_config(logger_home, hub_url, token, **extra)))
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
