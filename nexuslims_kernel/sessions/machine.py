"""Move sessions between statuses safely, with an audit event for every move.

The move is a guarded ``UPDATE ... WHERE status = <expected>``: when two
processes race to move the same session, exactly one update matches a row and
the other gets :class:`ConcurrentUpdateError`. On SQLite run it inside
``db.session(write=True)`` so the read and the write share one lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import InstrumentSession, SessionEvent
from nexuslims_kernel.errors import ConcurrentUpdateError, IllegalTransitionError, NotFoundError
from nexuslims_kernel.sessions.states import TRANSITIONS, SessionStatus


def check_move(session_id: int, src: SessionStatus | str, dst: SessionStatus | str) -> None:
    """Raise IllegalTransitionError unless ``src -> dst`` is in the table."""
    src, dst = SessionStatus(src), SessionStatus(dst)
    allowed = TRANSITIONS[src]
    if dst not in allowed:
        options = ", ".join(sorted(allowed)) or "nothing"
        raise IllegalTransitionError(f"session {session_id} cannot move from {src} to {dst} (from {src} it can go to: {options})")


def _queue_target(sess: Session, session_id: int, current: str, reason: str | None) -> tuple[SessionStatus, str | None]:
    """Where a request to build lands: TO_BE_BUILT, or NEEDS_REVIEW when the session is too long."""
    from nexuslims_kernel.sessions.rules import review_reason

    s = sess.get(InstrumentSession, session_id)
    if s.start is None or s.end is None:
        missing = "end" if s.start is not None else "start"
        raise IllegalTransitionError(
            f"session {session_id} is {current} with no {missing}: it cannot be built; "
            f"end it first ('nxhub sessions end {session_id}' or 'nxhub sessions edit {session_id}')")
    why = review_reason(s)
    if why is None:
        return SessionStatus.TO_BE_BUILT, reason
    if current == SessionStatus.NEEDS_REVIEW:
        raise IllegalTransitionError(f"session {session_id} needs review: it {why}")
    return SessionStatus.NEEDS_REVIEW, f"needs review: it {why}"


def transition(
    sess: Session,
    session_id: int,
    to: SessionStatus | str,
    *,
    actor: str,
    reason: str | None = None,
    expect: SessionStatus | str | None = None,
    values: dict[str, Any] | None = None,
) -> SessionStatus:
    """Move one session to ``to`` inside the caller's transaction.

    ``expect`` pins the status the caller believes the session is in (a worker
    releasing its own claim, say); ``values`` sets other columns in the same
    update (claim owner, attempts, ...). A request for TO_BE_BUILT (other than a
    worker handing its claim back) needs a session with a start and an end, and
    lands in NEEDS_REVIEW when the session is longer than ``sessions.max_length_s``
    and not approved: the returned status says where the session went.
    """
    to = SessionStatus(to)
    current = sess.scalar(select(InstrumentSession.status).where(InstrumentSession.id == session_id))
    if current is None:
        raise NotFoundError(f"session {session_id} does not exist")
    if expect is not None and current != SessionStatus(expect):
        raise ConcurrentUpdateError(f"session {session_id} is {current}, not {SessionStatus(expect)}: someone else moved it")
    if to == SessionStatus.TO_BE_BUILT and current != SessionStatus.BUILDING:
        to, reason = _queue_target(sess, session_id, current, reason)
    check_move(session_id, current, to)
    now = utcnow()
    result = sess.execute(
        update(InstrumentSession)
        .where(InstrumentSession.id == session_id, InstrumentSession.status == current)
        .values(status=to, status_reason=reason, updated_at=now, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise ConcurrentUpdateError(f"session {session_id} changed status while it was being moved to {to}")
    sess.add(
        SessionEvent(
            session_id=session_id,
            kind="STATUS",
            at=now,
            actor=actor,
            from_status=str(current),
            to_status=str(to),
            payload={"reason": reason} if reason else {},
        )
    )
    sess.flush()
    return to


def move(db: Database, session_id: int, to: SessionStatus | str, *, actor: str, reason: str | None = None, **kwargs: Any) -> SessionStatus:
    """:func:`transition` in a write transaction of its own."""
    with db.session(write=True) as sess:
        return transition(sess, session_id, to, actor=actor, reason=reason, **kwargs)
