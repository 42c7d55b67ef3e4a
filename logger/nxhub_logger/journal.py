"""The durable outbox: every event is committed to a local SQLite journal before anyone is told it happened.

WAL with ``synchronous=FULL`` makes each commit survive a power cut. Events are
delivered in journal order (``seq``); each keeps its client UUID, so resending
after a crash is harmless (the server ignores replays). An event ends in one of
three states: ``queued`` (not yet acknowledged), ``sent`` (the server
acknowledged it) or ``refused`` (the server rejected it for good; the reason is
kept and shown, the event is never dropped).

Written for Python 3.4 and the SQLite it bundles (the zipapp runs on Windows XP/7
PCs): no UPSERT, no ``fromisoformat``; the on-disk format is the same everywhere.
"""

import collections
import datetime as dt
import json
import os
import re
import sqlite3
import uuid as uuidlib
from pathlib import Path

QUEUED, SENT, REFUSED = "queued", "sent", "refused"
UTC = dt.timezone.utc
_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,6}))?)?(?:([+-])(\d\d):?(\d\d)|(Z))?$")

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


def utcnow():
    return dt.datetime.now(UTC)


def parse_time(text):
    """An ISO 8601 time as this journal and the hub write it (``datetime.fromisoformat`` is Python 3.7+)."""
    m = _ISO.match(text.strip())
    if m is None:
        raise ValueError("not an ISO 8601 time: {!r}".format(text))
    y, mo, d, h, mi, sec, frac, sign, tzh, tzm, zulu = m.groups()
    tz = None
    if zulu:
        tz = UTC
    elif sign:
        offset = dt.timedelta(hours=int(tzh), minutes=int(tzm))
        tz = dt.timezone(-offset if sign == "-" else offset)
    micro = int((frac or "0").ljust(6, "0"))
    return dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec or 0), micro, tz)


class Event(collections.namedtuple("Event", "seq uuid kind session_uuid at body state attempts last_error")):
    """One journaled event, as stored (immutable)."""

    __slots__ = ()

    def wire(self):
        """The JSON the server's ``/logger/events`` expects."""
        out = dict(self.body)
        out.update(kind=self.kind, uuid=self.uuid, session_uuid=self.session_uuid, at=self.at)
        return out


Event.__new__.__defaults__ = (0, None)  # attempts, last_error


OpenSession = collections.namedtuple("OpenSession", "uuid started_at user project start_state start_error")
OpenSession.__doc__ = "The session started on this PC and not ended yet."


class Journal:
    """The SQLite outbox. One connection per thread; safe to share the file between processes."""

    def __init__(self, path):
        self.path = Path(str(path))
        if not os.path.isdir(str(self.path.parent)):
            os.makedirs(str(self.path.parent))
        self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        # fetchall(): a PRAGMA answers with a row, and its statement holds a lock until read to the end; CPython frees
        # the cursor at once, PyPy only at its next GC (seen: every event lost to a kill -9 under PyPy).
        self.db.execute("PRAGMA journal_mode=WAL").fetchall()
        self.db.execute("PRAGMA synchronous=FULL").fetchall()
        self.db.executescript(SCHEMA)

    def close(self):
        self.db.close()

    # -- writing events --

    def append(self, kind, session_uuid=None, at=None, **fields):
        """Journal one event durably (committed with fsync) and return it; START opens a new session."""
        kind = kind.upper()
        event_uuid = str(uuidlib.uuid4())
        if kind == "START":
            session_uuid = event_uuid
        elif not session_uuid:
            raise ValueError("a {} event needs the session it belongs to".format(kind))
        at_text = (at or utcnow()).astimezone(UTC).isoformat()
        body = {k: v for k, v in fields.items() if v not in (None, "", {})}
        with self.db:
            cur = self.db.execute(
                "INSERT INTO events (uuid, kind, session_uuid, at, body) VALUES (?, ?, ?, ?, ?)",
                (event_uuid, kind, session_uuid, at_text, json.dumps(body)),
            )
        return Event(cur.lastrowid, event_uuid, kind, session_uuid, at_text, body, QUEUED)

    def start(self, user=None, project=None, text=None, reservation=None):
        return self.append("START", user=user, project=project, text=text, reservation=reservation or None)

    def end(self, session_uuid, at=None):
        return self.append("END", session_uuid, at=at)

    def note(self, session_uuid, text):
        return self.append("NOTE", session_uuid, text=text)

    # -- delivery bookkeeping --

    def pending(self, limit=200):
        """The oldest events not yet acknowledged, in journal order."""
        rows = self.db.execute(
            "SELECT seq, uuid, kind, session_uuid, at, body, state, attempts, last_error FROM events"
            " WHERE state = ? ORDER BY seq LIMIT ?", (QUEUED, limit)).fetchall()
        return [_event(row) for row in rows]

    def mark_sent(self, acks):
        """Record the server's acknowledgements: a list of (event uuid, server session id or None)."""
        now = utcnow().isoformat()
        with self.db:
            self.db.executemany(
                "UPDATE events SET state = ?, acked_at = ?, server_session_id = ?, last_error = NULL WHERE uuid = ?",
                [(SENT, now, sid, uid) for uid, sid in acks])

    def mark_refused(self, event_uuid, reason):
        with self.db:
            self.db.execute("UPDATE events SET state = ?, last_error = ?, acked_at = ? WHERE uuid = ?",
                            (REFUSED, reason[:2000], utcnow().isoformat(), event_uuid))

    def refused_starts(self, session_uuids):
        """Of these sessions, those whose START the hub refused: session uuid -> the hub's reason."""
        if not session_uuids:
            return {}
        marks = ",".join("?" * len(session_uuids))
        rows = self.db.execute("SELECT uuid, last_error FROM events WHERE kind = 'START' AND state = ? AND uuid IN (%s)" % marks,
                               (REFUSED,) + tuple(session_uuids)).fetchall()
        return dict(rows)

    def checkpoint(self):
        """Copy the WAL into the database file after a delivery (PASSIVE: never waits for, nor blocks, a writer).

        SQLite also checkpoints by itself every 1000 pages; doing it here, while the
        operator is not waiting, makes it rarer on the commit of an event.
        """
        self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def mark_failed_attempt(self, uuids, error):
        with self.db:
            self.db.executemany("UPDATE events SET attempts = attempts + 1, last_error = ? WHERE uuid = ?",
                                [(error[:2000], u) for u in uuids])

    # -- what the UI and `status` show --

    def counts(self):
        out = {QUEUED: 0, SENT: 0, REFUSED: 0}
        out.update(dict(self.db.execute("SELECT state, COUNT(*) FROM events GROUP BY state").fetchall()))
        return out

    def events(self, session_uuid=None, limit=1000):
        sql = "SELECT seq, uuid, kind, session_uuid, at, body, state, attempts, last_error FROM events"
        args = ()
        if session_uuid:
            sql, args = sql + " WHERE session_uuid = ?", (session_uuid,)
        rows = self.db.execute(sql + " ORDER BY seq DESC LIMIT ?", args + (limit,)).fetchall()
        return [_event(row) for row in reversed(rows)]

    def refused(self, limit=20):
        rows = self.db.execute(
            "SELECT seq, uuid, kind, session_uuid, at, body, state, attempts, last_error FROM events"
            " WHERE state = ? ORDER BY seq DESC LIMIT ?", (REFUSED, limit)).fetchall()
        return [_event(row) for row in reversed(rows)]

    def open_session(self):
        """The newest START on this PC without an END in the journal."""
        rows = self.db.execute(
            "SELECT s.uuid, s.at, s.body, s.state, s.last_error FROM events s WHERE s.kind = 'START' AND NOT EXISTS"
            " (SELECT 1 FROM events e WHERE e.kind = 'END' AND e.session_uuid = s.uuid) ORDER BY s.seq DESC LIMIT 1"
        ).fetchall()  # not fetchone(): read to the end, so no statement keeps a read snapshot open (PyPy)
        if not rows:
            return None
        row = rows[0]
        body = json.loads(row[2])
        return OpenSession(row[0], parse_time(row[1]), body.get("user"), body.get("project"), row[3], row[4])

    # -- small key/value state: liveness, cached reservations --

    def get_meta(self, key, default=None):
        rows = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchall()
        return rows[0][0] if rows else default

    def set_meta(self, key, value):
        # INSERT OR REPLACE, not UPSERT: the SQLite of Python 3.4 on Windows predates UPSERT (3.24).
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def mark_alive(self, clean_exit=False):
        """Called every few seconds while running, and with ``clean_exit`` on an orderly quit."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                                [("alive_at", utcnow().isoformat()), ("clean_exit", "1" if clean_exit else "0")])

    def last_alive(self):
        value = self.get_meta("alive_at")
        return parse_time(value) if value else None

    def interrupted_session(self):
        """The open session if the last run did not quit cleanly (a crash or a power cut)."""
        session = self.open_session()
        if session is None or self.get_meta("clean_exit", "1") == "1":
            return None
        return session


def _event(row):
    return Event(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7], row[8])
