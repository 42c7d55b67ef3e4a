"""The durable outbox: every event is committed to a local SQLite journal before anyone is told it happened.

WAL with ``synchronous=FULL`` makes each commit survive a power cut. Events are
delivered in journal order (``seq``); each keeps its client UUID, so resending
after a crash is harmless (the server ignores replays). An event ends in one of
three states: ``queued`` (not yet acknowledged), ``sent`` (the server
acknowledged it) or ``refused`` (the server rejected it for good; the reason is
kept and shown, the event is never dropped).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import uuid as uuidlib
from pathlib import Path
from typing import Any

QUEUED, SENT, REFUSED = "queued", "sent", "refused"
UTC = dt.timezone.utc  # noqa: UP017 -- the headless client also runs on a microscope PC's older Python

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('START', 'END', 'NOTE')),
    session_uuid TEXT NOT NULL,
    at TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    acked_at TEXT,
    server_session_id INTEGER
);
CREATE INDEX IF NOT EXISTS ix_events_state_seq ON events (state, seq);
CREATE INDEX IF NOT EXISTS ix_events_session ON events (session_uuid, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


@dataclasses.dataclass(frozen=True)
class Event:
    """One journaled event, as stored."""

    seq: int
    uuid: str
    kind: str
    session_uuid: str
    at: str
    body: dict[str, Any]
    state: str
    attempts: int = 0
    last_error: str | None = None

    def wire(self) -> dict[str, Any]:
        """The JSON the server's ``/logger/events`` expects."""
        return {**self.body, "kind": self.kind, "uuid": self.uuid, "session_uuid": self.session_uuid, "at": self.at}


@dataclasses.dataclass(frozen=True)
class OpenSession:
    """The session started on this PC and not ended yet."""

    uuid: str
    started_at: dt.datetime
    user: str | None
    project: str | None
    start_state: str
    start_error: str | None


class Journal:
    """The SQLite outbox. One connection per thread; safe to share the file between processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- writing events --

    def append(self, kind: str, session_uuid: str | None = None, at: dt.datetime | None = None, **fields: Any) -> Event:
        """Journal one event durably (committed with fsync) and return it; START opens a new session."""
        kind = kind.upper()
        event_uuid = str(uuidlib.uuid4())
        if kind == "START":
            session_uuid = event_uuid
        elif not session_uuid:
            raise ValueError(f"a {kind} event needs the session it belongs to")
        at_text = (at or utcnow()).astimezone(UTC).isoformat()
        body = {k: v for k, v in fields.items() if v not in (None, "", {})}
        with self.db:
            cur = self.db.execute(
                "INSERT INTO events (uuid, kind, session_uuid, at, body) VALUES (?, ?, ?, ?, ?)",
                (event_uuid, kind, session_uuid, at_text, json.dumps(body)),
            )
        return Event(cur.lastrowid, event_uuid, kind, session_uuid, at_text, body, QUEUED)

    def start(self, user: str | None = None, project: str | None = None, text: str | None = None,
              reservation: dict[str, Any] | None = None) -> Event:
        return self.append("START", user=user, project=project, text=text, reservation=reservation or None)

    def end(self, session_uuid: str, at: dt.datetime | None = None) -> Event:
        return self.append("END", session_uuid, at=at)

    def note(self, session_uuid: str, text: str) -> Event:
        return self.append("NOTE", session_uuid, text=text)

    # -- delivery bookkeeping --

    def pending(self, limit: int = 200) -> list[Event]:
        """The oldest events not yet acknowledged, in journal order."""
        rows = self.db.execute(
            "SELECT seq, uuid, kind, session_uuid, at, body, state, attempts, last_error FROM events"
            " WHERE state = ? ORDER BY seq LIMIT ?", (QUEUED, limit)).fetchall()
        return [_event(row) for row in rows]

    def mark_sent(self, acks: list[tuple[str, int | None]]) -> None:
        """Record the server's acknowledgements: (event uuid, server session id)."""
        now = utcnow().isoformat()
        with self.db:
            self.db.executemany(
                "UPDATE events SET state = ?, acked_at = ?, server_session_id = ?, last_error = NULL WHERE uuid = ?",
                [(SENT, now, sid, uid) for uid, sid in acks])

    def mark_refused(self, event_uuid: str, reason: str) -> None:
        with self.db:
            self.db.execute("UPDATE events SET state = ?, last_error = ?, acked_at = ? WHERE uuid = ?",
                            (REFUSED, reason[:2000], utcnow().isoformat(), event_uuid))

    def refused_starts(self, session_uuids: set[str]) -> dict[str, str]:
        """Of these sessions, those whose START the hub refused: session uuid -> the hub's reason."""
        if not session_uuids:
            return {}
        marks = ",".join("?" * len(session_uuids))
        rows = self.db.execute(f"SELECT uuid, last_error FROM events WHERE kind = 'START' AND state = ? AND uuid IN ({marks})",
                               (REFUSED, *session_uuids)).fetchall()
        return dict(rows)

    def checkpoint(self) -> None:
        """Copy the WAL into the database file after a delivery (PASSIVE: never waits for, nor blocks, a writer).

        SQLite also checkpoints by itself every 1000 pages; doing it here, while the
        operator is not waiting, makes it rarer on the commit of an event.
        """
        self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def mark_failed_attempt(self, uuids: list[str], error: str) -> None:
        with self.db:
            self.db.executemany("UPDATE events SET attempts = attempts + 1, last_error = ? WHERE uuid = ?",
                                [(error[:2000], u) for u in uuids])

    # -- what the UI and `status` show --

    def counts(self) -> dict[str, int]:
        out = {QUEUED: 0, SENT: 0, REFUSED: 0}
        out.update(dict(self.db.execute("SELECT state, COUNT(*) FROM events GROUP BY state").fetchall()))
        return out

    def events(self, session_uuid: str | None = None, limit: int = 1000) -> list[Event]:
        sql = "SELECT seq, uuid, kind, session_uuid, at, body, state, attempts, last_error FROM events"
        args: tuple[Any, ...] = ()
        if session_uuid:
            sql, args = sql + " WHERE session_uuid = ?", (session_uuid,)
        rows = self.db.execute(sql + " ORDER BY seq DESC LIMIT ?", (*args, limit)).fetchall()
        return [_event(row) for row in reversed(rows)]

    def refused(self, limit: int = 20) -> list[Event]:
        rows = self.db.execute(
            "SELECT seq, uuid, kind, session_uuid, at, body, state, attempts, last_error FROM events"
            " WHERE state = ? ORDER BY seq DESC LIMIT ?", (REFUSED, limit)).fetchall()
        return [_event(row) for row in reversed(rows)]

    def open_session(self) -> OpenSession | None:
        """The newest START on this PC without an END in the journal."""
        row = self.db.execute(
            "SELECT s.uuid, s.at, s.body, s.state, s.last_error FROM events s WHERE s.kind = 'START' AND NOT EXISTS"
            " (SELECT 1 FROM events e WHERE e.kind = 'END' AND e.session_uuid = s.uuid) ORDER BY s.seq DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        body = json.loads(row[2])
        return OpenSession(row[0], dt.datetime.fromisoformat(row[1]), body.get("user"), body.get("project"), row[3], row[4])

    # -- small key/value state: liveness, cached reservations --

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.db:
            self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                            (key, value))

    def mark_alive(self, clean_exit: bool = False) -> None:
        """Called every few seconds while running, and with ``clean_exit`` on an orderly quit."""
        with self.db:
            for key, value in (("alive_at", utcnow().isoformat()), ("clean_exit", "1" if clean_exit else "0")):
                self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                (key, value))

    def last_alive(self) -> dt.datetime | None:
        value = self.get_meta("alive_at")
        return dt.datetime.fromisoformat(value) if value else None

    def interrupted_session(self) -> OpenSession | None:
        """The open session if the last run did not quit cleanly (a crash or a power cut)."""
        session = self.open_session()
        if session is None or self.get_meta("clean_exit", "1") == "1":
            return None
        return session


def _event(row: tuple[Any, ...]) -> Event:
    return Event(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7], row[8])
