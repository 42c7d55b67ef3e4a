"""Backup and restore: a snapshot taken while rows are written restores whole into a fresh data dir."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
import uuid

import pytest
from opskit import built_hub, run_cli
from sqlalchemy import select

from nexuslims_kernel.config import load_settings
from nexuslims_kernel.db import Database
from nexuslims_kernel.db.directory import add_person
from nexuslims_kernel.db.models import Dataset, Instrument, Person, SessionEvent

PASS = "correct horse battery staple"


class Writer(threading.Thread):
    """A Logger session's notes and a person per transaction; ``committed`` lists what each returned commit held."""

    def __init__(self, db: Database, instrument_id: int) -> None:
        super().__init__(daemon=True)
        self.db, self.instrument_id, self.committed, self.stop = db, instrument_id, [], threading.Event()

    def _event(self, sess, kind: str, event_uuid: str, session_uuid: str) -> None:
        from nexuslims_kernel.sessions.events import ingest_event, parse_event

        at = dt.datetime.now(dt.UTC).isoformat()
        ingest_event(sess, self.instrument_id, parse_event({"kind": kind, "uuid": event_uuid, "session_uuid": session_uuid,
                                                            "at": at, "user": "alice", "text": "load"}), actor="test")

    def run(self) -> None:
        session_uuid = str(uuid.uuid4())
        with self.db.session(write=True) as sess:
            self._event(sess, "START", session_uuid, session_uuid)
        i = 0
        while not self.stop.is_set():
            name, note = f"writer{i:05d}", str(uuid.uuid4())
            with self.db.session(write=True) as sess:
                add_person(sess, name)
                self._event(sess, "NOTE", note, session_uuid)
            self.committed.append((name, note))
            i += 1


class Rebuilder(threading.Thread):
    """Rebuilds one session over and over (previews rewritten, record rows replaced) until stopped."""

    def __init__(self, db: Database, settings, session_id: int, pool) -> None:
        super().__init__(daemon=True)
        self.db, self.settings, self.session_id, self.pool = db, settings, session_id, pool
        self.stop, self.builds, self.statuses = threading.Event(), 0, set()

    def run(self) -> None:
        from nexuslims_kernel.builder import build_session
        from nexuslims_kernel.sessions.machine import move

        while not self.stop.is_set():
            move(self.db, self.session_id, "TO_BE_BUILT", actor="test", reason="load during a backup")
            self.statuses.add(str(build_session(self.db, self.session_id, self.settings, pool=self.pool).status))
            self.builds += 1


def test_backup_while_writing_restores_every_committed_row(fresh, db, settings, db_url, tmp_path, pool, monkeypatch, capsys) -> None:
    sid, _paths = built_hub(db, settings, tmp_path / "store", pool)
    (settings.data_dir / "hub").mkdir(exist_ok=True)
    (settings.data_dir / "hub" / "cookie_secret").write_bytes(b"s3cret-cookie")
    hub_state = sqlite3.connect(settings.data_dir / "hub" / "jupyterhub.sqlite")  # JupyterHub's own database
    hub_state.execute("CREATE TABLE users (name TEXT)")
    hub_state.execute("INSERT INTO users VALUES ('alice')")
    hub_state.commit()
    hub_state.close()
    source = {"NXHUB_DATA_DIR": str(settings.data_dir), "NXHUB_DATABASE_URL": db_url, "NXHUB_XSD_PATH": str(settings.xsd_path),
              "NXHUB_BACKUP_PASSPHRASE": PASS}
    with db.session() as sess:
        instrument_id = sess.scalar(select(Instrument.id))
    writer, rebuilder = Writer(db, instrument_id), Rebuilder(db, settings, sid, pool)
    writer.start()
    rebuilder.start()
    while len(writer.committed) < 20:
        time.sleep(0.01)
    before = list(writer.committed)
    code, out, err = run_cli(monkeypatch, capsys, source, "--json", "backup", str(tmp_path / "bk"))
    writer.stop.set()
    rebuilder.stop.set()
    writer.join()
    rebuilder.join(60)
    assert rebuilder.builds >= 1 and rebuilder.statuses == {"COMPLETED"}
    assert code == 0, err
    assert PASS not in out + err
    info = json.loads(out)
    assert info["secrets"] == "encrypted" and info["backend"] == db.dialect
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert {p["kind"] for p in manifest["parts"]} >= {"database", "preview", "secrets"}
    assert b"s3cret-cookie" not in (tmp_path / "bk" / "secrets.fernet").read_bytes()

    env, url = fresh, fresh["NXHUB_DATABASE_URL"]
    code, out, err = run_cli(monkeypatch, capsys, {**env, "NXHUB_BACKUP_PASSPHRASE": PASS}, "--json", "restore", str(tmp_path / "bk"))
    assert code == 0, out + err
    result = json.loads(out)
    assert result["doctor"] == "ok", result

    restored = Database(url)
    try:
        with restored.session() as sess:
            names = set(sess.scalars(select(Person.username).where(Person.username.like("writer%"))))
            notes = set(sess.scalars(select(SessionEvent.client_uuid).where(SessionEvent.kind == "NOTE")))
            previews = list(sess.scalars(select(Dataset.preview_path).where(Dataset.preview_path.is_not(None))))
    finally:
        restored.dispose()
    # one snapshot: every row committed before the backup began, and a gap-free prefix of the rest
    assert {n for n, _ in before} <= names
    assert names == {n for n, _ in writer.committed[:len(names)]}
    assert notes == {e for _, e in writer.committed[:len(names)]}  # the Logger's events of exactly those commits
    assert len(names) == manifest["row_counts"]["people"] - 1  # alice
    fresh = load_settings(environ={}, overrides={"data_dir": env["NXHUB_DATA_DIR"], "database_url": url})
    assert previews and all((fresh.previews_path / p).is_file() for p in previews)  # every preview the snapshot names
    assert (fresh.data_dir / "hub" / "cookie_secret").read_bytes() == b"s3cret-cookie"
    hub_state = sqlite3.connect(fresh.data_dir / "hub" / "jupyterhub.sqlite")
    assert hub_state.execute("SELECT name FROM users").fetchall() == [("alice",)]
    hub_state.close()
    if db.dialect == "sqlite":
        conn = sqlite3.connect(fresh.data_dir / "nxhub.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()


def test_verify_names_the_corrupted_part(db, settings, db_url, tmp_path, pool, monkeypatch, capsys) -> None:
    built_hub(db, settings, tmp_path / "store", pool, n=2)
    env = {"NXHUB_DATA_DIR": str(settings.data_dir), "NXHUB_DATABASE_URL": db_url}
    code, _out, err = run_cli(monkeypatch, capsys, env, "backup", "--no-secrets", str(tmp_path / "bk"))
    assert code == 0, err
    code, _out, err = run_cli(monkeypatch, capsys, env, "backup", "--verify", str(tmp_path / "bk"))
    assert code == 0, err
    preview = next((tmp_path / "bk" / "previews").rglob("*.*"))
    data = bytearray(preview.read_bytes())
    data[len(data) // 2] ^= 0x01
    preview.write_bytes(bytes(data))
    code, _out, err = run_cli(monkeypatch, capsys, env, "restore", "--verify", str(tmp_path / "bk"))
    rel = preview.relative_to(tmp_path / "bk").as_posix()
    assert code == 65 and rel in err and "sha256" in err, err
    assert err.strip().count("\n") == 0  # one line


def test_restore_refuses_a_hub_in_use_unless_forced(db, settings, db_url, tmp_path, pool, monkeypatch, capsys) -> None:
    built_hub(db, settings, tmp_path / "store", pool, n=1)
    env = {"NXHUB_DATA_DIR": str(settings.data_dir), "NXHUB_DATABASE_URL": db_url}
    assert run_cli(monkeypatch, capsys, env, "backup", "--no-secrets", str(tmp_path / "bk"))[0] == 0
    with db.session(write=True) as sess:
        add_person(sess, "after-backup")
    code, _out, err = run_cli(monkeypatch, capsys, env, "restore", str(tmp_path / "bk"))
    assert code == 2 and "not empty" in err and "--force" in err
    with db.session() as sess:  # nothing was touched
        assert sess.scalar(select(Person.id).where(Person.username == "after-backup")) is not None
    code, out, err = run_cli(monkeypatch, capsys, env, "--json", "restore", "--force", str(tmp_path / "bk"))
    assert code == 0, err
    check = Database(db_url)
    try:
        with check.session() as sess:
            assert sess.scalar(select(Person.id).where(Person.username == "after-backup")) is None
            assert sess.scalar(select(Person.id).where(Person.username == "alice")) is not None
    finally:
        check.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_wrong_passphrase_changes_nothing_and_no_secrets_restores_without_them(fresh, db, settings, db_url, tmp_path, pool, monkeypatch, capsys) -> None:
    built_hub(db, settings, tmp_path / "store", pool, n=1)
    (settings.data_dir / "demo-tokens.txt").write_text("token")
    env = {"NXHUB_DATA_DIR": str(settings.data_dir), "NXHUB_DATABASE_URL": db_url}
    assert run_cli(monkeypatch, capsys, {**env, "NXHUB_BACKUP_PASSPHRASE": PASS}, "backup", str(tmp_path / "bk"))[0] == 0
    code, _out, err = run_cli(monkeypatch, capsys, {**fresh, "NXHUB_BACKUP_PASSPHRASE": "wrong"}, "restore", str(tmp_path / "bk"))
    assert code == 2 and "passphrase" in err
    assert not (tmp_path / "fresh").exists() or not any((tmp_path / "fresh").iterdir())
    code, out, err = run_cli(monkeypatch, capsys, fresh, "--json", "restore", "--no-secrets", str(tmp_path / "bk"))
    assert code == 0, out + err
    assert json.loads(out)["secrets"] == "none" and not (tmp_path / "fresh" / "demo-tokens.txt").exists()


def test_an_older_backup_is_migrated_forward(fresh, db, settings, db_url, tmp_path, pool, monkeypatch, capsys) -> None:
    from nexuslims_kernel.db import downgrade, head_revision

    built_hub(db, settings, tmp_path / "store", pool, n=1)
    downgrade(db, "0007")  # a hub of an older nxhub, backed up before its upgrade
    env = {"NXHUB_DATA_DIR": str(settings.data_dir), "NXHUB_DATABASE_URL": db_url}
    code, _out, err = run_cli(monkeypatch, capsys, env, "backup", "--no-secrets", str(tmp_path / "bk"))
    assert code == 0, err
    code, out, err = run_cli(monkeypatch, capsys, fresh, "--json", "restore", str(tmp_path / "bk"))
    assert code == 0, out + err
    result = json.loads(out)
    assert (result["schema_from"], result["schema_to"]) == ("0007", head_revision())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_backup_is_readable_by_its_owner_only(db, settings, db_url, tmp_path, pool, monkeypatch, capsys) -> None:
    built_hub(db, settings, tmp_path / "store", pool, n=1)
    env = {"NXHUB_DATA_DIR": str(settings.data_dir), "NXHUB_DATABASE_URL": db_url}
    assert run_cli(monkeypatch, capsys, env, "backup", "--no-secrets", str(tmp_path / "bk"))[0] == 0
    modes = {p.relative_to(tmp_path / "bk").as_posix(): p.stat().st_mode & 0o077 for p in (tmp_path / "bk").rglob("*")}
    assert modes and not any(modes.values()), modes


def test_no_pg_dump_new_enough_is_a_clear_error() -> None:
    from nexuslims_kernel.errors import ConfigError
    from nexuslims_kernel.ops.dbcopy import pg_tool

    with pytest.raises(ConfigError, match="no pg_dump of PostgreSQL 99 or newer"):
        pg_tool("pg_dump", 99, None)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_failed_backup_leaves_nothing_and_a_backup_never_goes_inside_what_it_copies(db, settings, db_url, tmp_path, pool,
                                                                                       monkeypatch, capsys) -> None:
    built_hub(db, settings, tmp_path / "store", pool, n=1)
    env = {"NXHUB_DATA_DIR": str(settings.data_dir), "NXHUB_DATABASE_URL": db_url}
    code, _out, err = run_cli(monkeypatch, capsys, env, "backup", "--no-secrets", str(settings.previews_path / "bk"))
    assert code == 2 and "inside" in err
    (settings.previews_path / "unreadable.png").symlink_to("/proc/self/mem")  # a read error, even for root (EIO)
    code, _out, err = run_cli(monkeypatch, capsys, env, "backup", "--no-secrets", str(tmp_path / "bk"))
    assert code == 74 and "unreadable.png" in err and err.count("\n") == 1, err
    assert not (tmp_path / "bk").exists() and not (tmp_path / "bk.partial").exists()
