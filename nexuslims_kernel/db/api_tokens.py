"""Issue and resolve bearer tokens: personal API tokens and instrument Logger tokens.

Only sha256 hashes are stored (see :mod:`nexuslims_kernel.db.tokens`). A token
resolves to a :class:`Principal` with ONE query (token -> person -> memberships,
plus instrument tokens, as a UNION ALL).

:data:`PRINCIPALS` caches token hash -> Principal in this process for at most
``CACHE_TTL_S`` = 5 seconds, because every API request authenticates and the
lookup otherwise costs a database round trip per request. It is never stale
for changes made by this process: any INSERT/UPDATE/DELETE executed through any
SQLAlchemy engine of the process (token revoked, membership or admin flag
changed, instrument token rotated...) empties it at once, and again when that
transaction commits. Changes made by *other* processes (another server
process, the ``nxhub`` CLI) are seen within the TTL.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from typing import Any

from sqlalchemy import Engine, Integer, String, delete, event, literal, null, or_, select, union_all, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from nexuslims_kernel.db.acl import Principal
from nexuslims_kernel.db.base import UTCDateTime, utcnow
from nexuslims_kernel.db.models import Instrument, Person, memberships
from nexuslims_kernel.db.models.api_tokens import ApiToken
from nexuslims_kernel.db.tokens import hash_token, new_token
from nexuslims_kernel.errors import InvalidInputError, NotFoundError

log = logging.getLogger(__name__)

TOUCH_EVERY_S = 300
#: How long a resolved token is trusted without asking the database (seconds; must stay <= 5).
CACHE_TTL_S = 5.0


def create_api_token(sess: Session, username: str, name: str = "", expires_at: dt.datetime | None = None) -> str:
    """A new personal token for ``username``, valid until ``expires_at`` (None: until revoked); returns the token (shown once)."""
    person = sess.scalar(select(Person).where(Person.username == username))
    if person is None:
        raise NotFoundError(f"no user named {username!r} (see 'nxhub users list')")
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInputError("a token's expiry must be in the future")
    token = new_token()
    sess.add(ApiToken(person_id=person.id, token_hash=hash_token(token), name=name, expires_at=expires_at))
    sess.flush()
    return token


_DURATION = re.compile(r"([1-9][0-9]{0,5})\s*([hdw])")
_UNITS = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}


def expiry_from(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """``90d``, ``12h``, ``2w`` from now, or an ISO-8601 date/time (naive = UTC) -> an aware UTC time."""
    now = now or utcnow()
    match = _DURATION.fullmatch(text.strip().lower())
    try:
        if match:
            return now + int(match.group(1)) * _UNITS[match.group(2)]
        when = dt.datetime.fromisoformat(text.strip())
        return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        pass
    raise InvalidInputError(f"expiry {text!r} is neither a duration like 90d, 12h or 2w nor an ISO-8601 date")


def token_row(token: ApiToken, username: str | None = None) -> dict[str, Any]:
    """What may be shown about a token: never its value (which is not stored) nor its hash."""
    row = {"id": token.id, "name": token.name, "created_at": token.created_at.isoformat() if token.created_at else None,
           "expires_at": token.expires_at.isoformat() if token.expires_at else None,
           "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None}
    return row if username is None else {"username": username, **row}


def list_api_tokens(sess: Session, username: str | None = None, person_id: int | None = None) -> list[dict[str, Any]]:
    """Personal tokens, everyone's or one person's (by username or id), oldest first, with their owner's name."""
    stmt = select(ApiToken, Person.username).join(Person, Person.id == ApiToken.person_id).order_by(ApiToken.id)
    if username is not None:
        stmt = stmt.where(Person.id == _person(sess, username).id)
    if person_id is not None:
        stmt = stmt.where(ApiToken.person_id == person_id)
    return [token_row(token, name) for token, name in sess.execute(stmt)]


def revoke_api_tokens(sess: Session, *, token_id: int | None = None, person_id: int | None = None,
                      username: str | None = None) -> list[int]:
    """Delete tokens (one by id, and/or all of one person's); returns the ids revoked.

    The delete is a write, so this process's principal cache is emptied at once;
    other processes stop accepting the token within :data:`CACHE_TTL_S`.
    """
    if token_id is None and person_id is None and username is None:
        raise InvalidInputError("say which token(s) to revoke")
    stmt = select(ApiToken.id)
    if token_id is not None:
        stmt = stmt.where(ApiToken.id == token_id)
    if username is not None:
        person_id = _person(sess, username).id
    if person_id is not None:
        stmt = stmt.where(ApiToken.person_id == person_id)
    ids = list(sess.scalars(stmt))
    if ids:
        sess.execute(delete(ApiToken).where(ApiToken.id.in_(ids)))
    return ids


def _person(sess: Session, username: str) -> Person:
    person = sess.scalar(select(Person).where(Person.username == username))
    if person is None:
        raise NotFoundError(f"no user named {username!r} (see 'nxhub users list')")
    return person


def _lookup_stmt(digest: str):
    """Personal-token rows (one per membership) and instrument-token rows, in one statement."""
    person_rows = (
        select(
            literal("user", String(10)).label("kind"), ApiToken.id.label("obj_id"), Person.username.label("name"),
            Person.id.label("person_id"), Person.is_admin.label("is_admin"),
            ApiToken.last_used_at.label("last_used_at"), ApiToken.expires_at.label("expires_at"),
            memberships.c.group_id.label("group_id"),
        )
        .join(Person, Person.id == ApiToken.person_id)
        .outerjoin(memberships, memberships.c.person_id == Person.id)
        .where(ApiToken.token_hash == digest, or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > utcnow()))
    )
    instrument_rows = select(
        literal("instrument", String(10)), Instrument.id, Instrument.name, null().cast(Integer),
        null().cast(Person.is_admin.type), null().cast(UTCDateTime), null().cast(UTCDateTime), null().cast(Integer),
    ).where(Instrument.token_hash == digest)
    return union_all(person_rows, instrument_rows)


def principal_for_token(sess: Session, token: str, *, touch: bool = True) -> Principal | None:
    """The person or instrument a bearer token belongs to, or None if it is unknown, revoked or expired."""
    return resolve_token(sess, token, touch=touch)[0]


def resolve_token(sess: Session, token: str, *, touch: bool = True) -> tuple[Principal | None, dt.datetime | None]:
    """(principal, when the token expires) for a bearer token; (None, None) if it does not work."""
    rows = sess.execute(_lookup_stmt(hash_token(token))).all()
    if not rows:
        return None, None
    inst = next((r for r in rows if r.kind == "instrument"), None)
    if inst is not None:
        return Principal(kind="instrument", instrument_id=inst.obj_id, instrument_name=inst.name), None
    first = rows[0]
    now = utcnow()
    # Write at most every few minutes, so reads do not all take the write lock.
    if touch and (first.last_used_at is None or (now - first.last_used_at).total_seconds() > TOUCH_EVERY_S):
        _touch(sess, first.obj_id, now)
    principal = Principal(
        kind="user", person_id=first.person_id, username=first.name, is_admin=bool(first.is_admin),
        group_ids=frozenset(r.group_id for r in rows if r.group_id is not None),
    )
    return principal, first.expires_at


def _touch(sess: Session, token_id: int, now: dt.datetime) -> None:
    """Record a token's use, best effort: the request it authenticates must not fail for it.

    On SQLite a read transaction cannot take the write lock once another process
    has written since it began ("database is locked" at once, whatever the busy
    timeout): forty people signing in at the same moment used to get 503s. The
    write then waits for the token's next use.
    """
    try:
        with sess.begin_nested():
            sess.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    except OperationalError as exc:
        log.debug("token %s: last use not recorded (%s)", token_id, exc.orig)


class PrincipalCache:
    """token hash -> (Principal, expiry); emptied by any write in this process (see module docstring)."""

    def __init__(self, ttl_s: float = CACHE_TTL_S) -> None:
        self.ttl_s = min(ttl_s, 5.0)
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(hash_token(token))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def generation(self) -> int:
        return self._generation

    def put(self, token: str, principal: Principal, generation: int, expires_at: dt.datetime | None = None) -> None:
        """Remember ``principal`` unless a write happened since ``generation`` was read (then it may be stale).

        Never past the token's own expiry: an expiring token is trusted at most until then.
        """
        ttl = self.ttl_s if expires_at is None else min(self.ttl_s, (expires_at - utcnow()).total_seconds())
        with self._lock:
            if generation == self._generation and ttl > 0:
                if len(self._entries) > 10_000:
                    self._entries.clear()
                self._entries[hash_token(token)] = (principal, time.monotonic() + ttl)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()


PRINCIPALS = PrincipalCache()
#: statements that change no rows (transaction control, settings, reads)
_READS = ("SELECT", "BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK", "SET ", "SHOW ")
_WRITE_WORDS = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


def is_write(statement: str) -> bool:
    """Conservative: anything but a plain SELECT (or a WITH without a writing verb) counts as a write."""
    head = statement.lstrip()[:9].upper()
    if head.startswith(_READS):
        return False
    return not (head.startswith("WITH") and _WRITE_WORDS.search(statement) is None)


@event.listens_for(Engine, "before_cursor_execute")
def _forget_on_write(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if is_write(statement):
        conn.info["nx_wrote"] = True
        PRINCIPALS.clear()


@event.listens_for(Engine, "commit")
def _forget_on_commit(conn: Any) -> None:
    if conn.info.pop("nx_wrote", False):
        PRINCIPALS.clear()
        # This event fires *before* the database commits: a lookup in between still reads the old rows
        # (a revoked token) and may cache them. Forget once more when the connection goes back to the pool.
        conn.info["nx_forget_at_checkin"] = True


@event.listens_for(Pool, "checkin")
def _forget_after_commit(_dbapi_conn: Any, record: Any) -> None:
    if record is not None and record.info.pop("nx_forget_at_checkin", False):
        PRINCIPALS.clear()


@event.listens_for(Engine, "rollback")
def _reset_on_rollback(conn: Any) -> None:
    if not conn.invalidated:  # a dead connection's info goes with it; touching it would try to reconnect
        conn.info.pop("nx_wrote", None)
