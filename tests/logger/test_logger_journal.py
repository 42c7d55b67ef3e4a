"""The outbox on its own: durable settings, sessions, refused events, crash detection."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest
from nxhub_logger import settings as config
from nxhub_logger.journal import QUEUED, REFUSED, SENT, Journal


def test_journal_is_wal_with_full_sync_and_survives_reopening(tmp_path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    assert journal.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert journal.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    start = journal.start("alice", "catalysis", "first")
    note = journal.note(start.uuid, "second")
    journal.close()  # no explicit commit anywhere: every append is its own transaction
    again = Journal(tmp_path / "j.sqlite3")
    assert [(e.kind, e.uuid, e.state) for e in again.pending()] == [("START", start.uuid, QUEUED), ("NOTE", note.uuid, QUEUED)]
    assert again.pending()[0].wire() == {"kind": "START", "uuid": start.uuid, "session_uuid": start.uuid, "at": start.at,
                                         "user": "alice", "project": "catalysis", "text": "first"}


def test_open_session_and_states(tmp_path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    assert journal.open_session() is None
    first = journal.start("alice")
    assert journal.open_session().uuid == first.uuid
    end = journal.end(first.uuid)
    assert journal.open_session() is None
    journal.mark_sent([(first.uuid, 1)])
    journal.mark_refused(end.uuid, "409: overlaps another session")
    assert journal.counts() == {QUEUED: 0, SENT: 1, REFUSED: 1}
    assert [(e.kind, e.last_error) for e in journal.refused()] == [("END", "409: overlaps another session")]
    assert journal.pending() == []  # refused is final: never retried


def test_interrupted_session_only_after_an_unclean_exit(tmp_path) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    journal.start("bob")
    assert journal.interrupted_session() is None  # never ran the window: nothing to recover
    journal.mark_alive()  # the window is running ...
    assert journal.interrupted_session() is not None  # ... and if it stops now, that was a crash
    journal.mark_alive(clean_exit=True)
    assert journal.interrupted_session() is None
    assert dt.datetime.now(dt.UTC) - journal.last_alive() < dt.timedelta(seconds=5)


def test_token_is_kept_in_a_file_only_the_user_can_read(logger_home) -> None:
    cfg = config.load()
    cfg.hub_url = "https://hub.example.org"
    where = config.save(cfg, "s3cret-token")
    token_file = logger_home / "token"
    assert where == str(token_file) and token_file.read_text() == "s3cret-token"
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    assert "s3cret" not in (logger_home / "config.json").read_text()
    assert config.load().token == "s3cret-token" and config.load().hub_url == "https://hub.example.org"


def test_bad_config_file_is_a_one_line_error(logger_home) -> None:
    bad = logger_home / "bad.json"
    bad.write_text("[1, 2]")
    for path, words in ((bad, "must hold a JSON object"), (logger_home / "missing.json", "does not exist")):
        try:
            config.load(path)
        except config.ConfigError as exc:
            assert words in str(exc) and "\n" not in str(exc)
        else:
            raise AssertionError("no error")


def test_token_goes_to_the_os_keyring_when_there_is_one(logger_home, tmp_path, monkeypatch) -> None:
    keyring = pytest.importorskip("keyring")
    alt = pytest.importorskip("keyrings.alt.file")

    backend = alt.PlaintextKeyring()  # a real file-backed backend; a desktop has its own (Credential Manager, Keychain, Secret Service)
    backend.file_path = str(tmp_path / "keyring.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    monkeypatch.setenv("NXHUB_LOGGER_KEYRING", "1")
    try:
        cfg = config.load()
        cfg.hub_url = "https://hub.example.org"
        assert config.save(cfg, "kr-token") == "the system keyring"
        assert not (logger_home / "token").exists() and "kr-token" not in (logger_home / "config.json").read_text()
        assert backend.get_password("nxhub-logger", "https://hub.example.org") == "kr-token"
        assert config.load().token == "kr-token"
    finally:
        keyring.set_keyring(previous)
