"""The build queue lives in the ``sessions`` table; workers claim rows atomically.

PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` lets many workers pick
different sessions without waiting on each other. SQLite: the same statement
runs inside ``db.session(write=True)`` (BEGIN IMMEDIATE), so claims are
serialised by the write lock. Either way the claim is a guarded transition
TO_BE_BUILT -> BUILDING, so a session is only ever claimed by one worker.

While building, a :class:`Heartbeat` thread bumps ``heartbeat_at``; a session
whose worker stopped heartbeating (killed, node lost) is put back by
:func:`reclaim_stale`, or moved to ERROR after ``max_attempts`` claims.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any, Self

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from nexuslims_kernel.config import Settings, get_settings
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import InstrumentSession
from nexuslims_kernel.errors import ConcurrentUpdateError, NxhubError
from nexuslims_kernel.sessions.machine import transition
from nexuslims_kernel.sessions.states import SessionStatus as S

log = logging.getLogger(__name__)


def ready_clause(now: dt.datetime | None = None) -> list[Any]:
    """What makes a session buildable now: queued and past its ``not_before``."""
    now = now or utcnow()
    return [InstrumentSession.status == S.TO_BE_BUILT,
            or_(InstrumentSession.not_before.is_(None), InstrumentSession.not_before <= now)]


def queue_has_work(db: Database) -> bool:
    with db.session() as sess:
        return sess.execute(select(InstrumentSession.id).where(*ready_clause()).limit(1)).first() is not None


def claim_next(db: Database, worker_id: str, session_id: int | None = None) -> int | None:
    """Claim the oldest buildable session (or ``session_id``) for ``worker_id``; None if there is none."""
    now = utcnow()
    if session_id is None:  # the queue respects not_before; an explicit request does not
        where = ready_clause(now)
    else:
        where = [InstrumentSession.status == S.TO_BE_BUILT, InstrumentSession.id == session_id]
    stmt = (
        select(InstrumentSession.id, InstrumentSession.attempts)
        .where(*where)
        .order_by(InstrumentSession.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    with db.session(write=True) as sess:
        row = sess.execute(stmt).first()
        if row is None:
            return None
        transition(sess, row.id, S.BUILDING, actor=worker_id, expect=S.TO_BE_BUILT, values={
            "claimed_by": worker_id, "claimed_at": now, "heartbeat_at": now,
            "attempts": row.attempts + 1, "not_before": None,
        })
        return row.id


def lock_claim(sess: Session, session_id: int, worker_id: str) -> None:
    """Inside a write transaction: make sure we still own the claim, and hold it until commit."""
    row = sess.execute(
        select(InstrumentSession.status, InstrumentSession.claimed_by)
        .where(InstrumentSession.id == session_id).with_for_update()
    ).first()
    if row is None or row.status != S.BUILDING or row.claimed_by != worker_id:
        holder = f"{row.status} by {row.claimed_by}" if row else "gone"
        raise ConcurrentUpdateError(f"session {session_id} is no longer claimed by {worker_id} (now {holder}); result dropped")


def release(db: Database, session_id: int, worker_id: str, to: S, reason: str | None = None,
            not_before: dt.datetime | None = None, refund_attempt: bool = False) -> None:
    """Move our claimed session out of BUILDING (retry, NO_FILES, ERROR) and clear the claim."""
    with db.session(write=True) as sess:
        lock_claim(sess, session_id, worker_id)
        values = {"claimed_by": None, "heartbeat_at": None, "not_before": not_before}
        if refund_attempt:
            values["attempts"] = InstrumentSession.attempts - 1
        transition(sess, session_id, to, actor=worker_id, reason=reason, expect=S.BUILDING, values=values)


def fail(db: Database, session_id: int, worker_id: str, error: str, settings: Settings | None = None) -> S:
    """A build attempt raised: retry later, or ERROR after ``max_attempts``."""
    build = (settings or get_settings()).build
    with db.session() as sess:
        attempts = sess.scalar(select(InstrumentSession.attempts).where(InstrumentSession.id == session_id)) or 0
    if attempts >= build.max_attempts:
        release(db, session_id, worker_id, S.ERROR, f"build failed {attempts} times; last error: {error}")
        return S.ERROR
    retry_at = utcnow() + dt.timedelta(seconds=min(600.0, 10.0 * attempts))
    release(db, session_id, worker_id, S.TO_BE_BUILT, f"attempt {attempts} failed: {error}", not_before=retry_at)
    return S.TO_BE_BUILT


def reclaim_stale(db: Database, settings: Settings | None = None, actor: str = "reclaimer") -> list[int]:
    """Put back BUILDING sessions whose worker stopped heartbeating; returns their ids."""
    build = (settings or get_settings()).build
    cutoff = utcnow() - dt.timedelta(seconds=build.reclaim_after_s)
    stale = (
        select(InstrumentSession.id, InstrumentSession.claimed_by, InstrumentSession.attempts)
        .where(InstrumentSession.status == S.BUILDING,
               or_(InstrumentSession.heartbeat_at.is_(None), InstrumentSession.heartbeat_at < cutoff))
        .order_by(InstrumentSession.id)
        .with_for_update(skip_locked=True)
    )
    done = []
    with db.session(write=True) as sess:
        for row in sess.execute(stale).all():
            why = f"worker {row.claimed_by} stopped heartbeating"
            values = {"claimed_by": None, "heartbeat_at": None}
            if row.attempts >= build.max_attempts:
                transition(sess, row.id, S.ERROR, actor=actor, reason=f"{why}; gave up after {row.attempts} attempts",
                           expect=S.BUILDING, values=values)
            else:
                transition(sess, row.id, S.TO_BE_BUILT, actor=actor, reason=why, expect=S.BUILDING, values=values)
            done.append(row.id)
    for sid in done:
        log.warning("session %s reclaimed from a worker that stopped heartbeating", sid)
    return done


class Heartbeat:
    """Background thread that keeps our claim fresh; ``lost`` is set if someone took it."""

    def __init__(self, db: Database, session_id: int, worker_id: str, interval_s: float) -> None:
        self.db, self.session_id, self.worker_id, self.interval_s = db, session_id, worker_id, interval_s
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{session_id}", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(self.interval_s + 30)

    def beat(self) -> bool:
        with self.db.session(write=True) as sess:
            result = sess.execute(
                update(InstrumentSession)
                .where(InstrumentSession.id == self.session_id, InstrumentSession.status == S.BUILDING,
                       InstrumentSession.claimed_by == self.worker_id)
                .values(heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if not self.beat():
                    self.lost.set()
                    return
            except NxhubError as exc:  # database briefly unavailable: try again next beat
                log.warning("heartbeat for session %s failed: %s", self.session_id, exc)
