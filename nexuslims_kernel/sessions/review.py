"""Where a session goes after its span changes, and the admin's review of long sessions.

A session with a start and an end is queued (TO_BE_BUILT) unless it is longer
than ``sessions.max_length_s``: then it waits in NEEDS_REVIEW until an admin
approves it (:func:`approve`) or shortens it. A session never ended is swept
into NEEDS_REVIEW by builds once it has run longer than the maximum
(:func:`sweep_unended`), so it cannot sweep up the instrument's whole store.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.config import Settings, get_settings
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import InstrumentSession
from nexuslims_kernel.errors import IllegalTransitionError, NotFoundError
from nexuslims_kernel.sessions.machine import transition
from nexuslims_kernel.sessions.rules import review_reason
from nexuslims_kernel.sessions.states import SessionStatus as S

REBUILDABLE = (S.COMPLETED, S.NO_FILES, S.ERROR)


def settle(sess: Session, s: InstrumentSession, *, actor: str, reason: str, rebuild: bool = False) -> S:
    """Queue, send to review, or leave a session whose span or details changed; ``rebuild`` re-queues built ones."""
    status = S(s.status)
    if s.start is not None and s.end is not None:
        why = review_reason(s)
        if status == S.WAITING_FOR_END or (status == S.NEEDS_REVIEW and why is None) or (rebuild and status in REBUILDABLE):
            status = transition(sess, s.id, S.TO_BE_BUILT, actor=actor, reason=reason)
        elif status == S.TO_BE_BUILT and why is not None:
            status = transition(sess, s.id, S.NEEDS_REVIEW, actor=actor, reason=f"needs review: it {why}")
        sess.refresh(s)
    return status


def approve(sess: Session, session_id: int, *, actor: str, share_files: bool = False) -> S:
    """An admin lets a session in NEEDS_REVIEW be built as it is."""
    s = sess.get(InstrumentSession, session_id)
    if s is None:
        raise NotFoundError(f"session {session_id} does not exist")
    if s.status != S.NEEDS_REVIEW:
        raise IllegalTransitionError(f"session {session_id} is {s.status}, not NEEDS_REVIEW: nothing to approve")
    s.length_approved = True
    s.share_files = s.share_files or share_files
    sess.flush()
    return transition(sess, session_id, S.TO_BE_BUILT, actor=actor, reason="approved by an admin")


def sweep_unended(db: Database, settings: Settings | None = None, actor: str = "sweeper",
                  now: dt.datetime | None = None) -> list[int]:
    """Move sessions still WAITING_FOR_END after ``sessions.max_length_s`` to NEEDS_REVIEW; returns their ids."""
    rules = (settings or get_settings()).sessions
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(seconds=rules.max_length_s)
    began = InstrumentSession.start
    stale = select(InstrumentSession.id, began).where(
        InstrumentSession.status == S.WAITING_FOR_END,
        (began < cutoff) | (began.is_(None) & (InstrumentSession.created_at < cutoff)),
    ).order_by(InstrumentSession.id).with_for_update(skip_locked=True)
    done = []
    with db.session(write=True) as sess:
        for sid, start in sess.execute(stale).all():
            since = f"started {start.isoformat()}" if start else "has no start"
            transition(sess, sid, S.NEEDS_REVIEW, actor=actor, expect=S.WAITING_FOR_END, reason=(
                f"never ended: {since}, more than sessions.max_length_s ({rules.max_length_s / 3600:g} h) ago; "
                f"end it ('nxhub sessions end {sid} --at TIME') or cancel it"))
            done.append(sid)
    return done
