"""An admin's corrections to sessions (end, edit, cancel), under the rules every source obeys.

Each change is checked by :mod:`.rules`, logged as an audit event, and the
session is then settled (queued, sent to review, or queued again for a
rebuild when it was built) by :func:`.review.settle`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.models import Group, InstrumentSession, Person, Project, Record, SessionEvent
from nexuslims_kernel.errors import IllegalTransitionError, InvalidInputError, NotFoundError
from nexuslims_kernel.sessions import rules
from nexuslims_kernel.sessions.machine import transition
from nexuslims_kernel.sessions.review import settle
from nexuslims_kernel.sessions.states import SessionStatus as S

#: Fields `edit` may change, and the session attribute each sets.
EDITABLE = ("start", "end", "user", "project", "group", "title", "note")


def get_session(sess: Session, session_id: int) -> InstrumentSession:
    s = sess.get(InstrumentSession, session_id)
    if s is None:
        raise NotFoundError(f"session {session_id} does not exist")
    return s


def _not_while(s: InstrumentSession, what: str) -> None:
    if s.status in (S.BUILDING, S.CANCELLED):
        raise IllegalTransitionError(f"session {s.id} is {s.status}: it cannot be {what} now")


def _audit(sess: Session, s: InstrumentSession, kind: str, actor: str, payload: dict[str, Any],
           at: dt.datetime | None = None) -> None:
    sess.add(SessionEvent(session_id=s.id, instrument_id=s.instrument_id, kind=kind, at=at or utcnow(), actor=actor,
                          payload=payload))


def end_session(sess: Session, session_id: int, at: dt.datetime, *, actor: str) -> S:
    """Give an open session its end; it is then queued (or sent to review when too long)."""
    s = get_session(sess, session_id)
    _not_while(s, "ended")
    if s.end is not None:
        raise IllegalTransitionError(f"session {session_id} already ended at {s.end.isoformat()}; "
                                     f"change it with 'nxhub sessions edit {session_id} --end TIME'")
    rules.check_span(sess, s.instrument_id, s.start, at, exclude_id=s.id)
    s.end = at
    _audit(sess, s, "END", actor, {"by": "admin"}, at=at)
    sess.flush()
    return settle(sess, s, actor=actor, reason="ended by an admin")


def _lookup(sess: Session, model: Any, field: Any, value: str | None, what: str) -> Any:
    if not value:
        return None
    row = sess.scalar(select(model).where(field == value))
    if row is None:
        raise NotFoundError(f"no {what} named {value!r}")
    return row


def _value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def edit_session(sess: Session, session_id: int, changes: dict[str, Any], *, actor: str) -> S:
    """Change a session's times, people or texts; a built session is rebuilt (its record keeps its id).

    ``changes`` maps names of :data:`EDITABLE` to new values; ``""`` clears
    user, project, group, title or note.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InvalidInputError(f"cannot edit {', '.join(sorted(unknown))}; editable: {', '.join(EDITABLE)}")
    if not changes:
        raise InvalidInputError("nothing to change")
    s = get_session(sess, session_id)
    _not_while(s, "edited")
    before = {"start": s.start, "end": s.end, "user": s.person.username if s.person else None,
              "project": s.project.name if s.project else None, "group": s.group.name if s.group else None,
              "title": (s.reservation or {}).get("title"), "note": s.note}
    if "start" in changes:
        s.start = changes["start"]
    if "end" in changes:
        s.end = changes["end"]
    if "user" in changes:
        s.person = _lookup(sess, Person, Person.username, changes["user"], "user")
    if "project" in changes:
        s.project = _lookup(sess, Project, Project.name, changes["project"], "project")
    if "group" in changes:
        s.group = _lookup(sess, Group, Group.name, changes["group"], "group")
    if "title" in changes:
        s.reservation = {**(s.reservation or {}), "title": changes["title"] or None}
    if "note" in changes:
        s.note = changes["note"] or None
    sess.flush()
    rules.check_span(sess, s.instrument_id, s.start, s.end, exclude_id=s.id)
    rules.check_members(sess, s)
    diff = {k: {"from": _value(before[k]), "to": _value(changes[k] or None)} for k in changes
            if _value(before[k]) != _value(changes[k] or None)}
    if not diff:
        return S(s.status)
    _audit(sess, s, "EDIT", actor, diff)
    sess.flush()
    return settle(sess, s, actor=actor, reason=f"edited by an admin ({', '.join(diff)})", rebuild=True)


def cancel_session(sess: Session, session_id: int, *, actor: str, reason: str, delete_record: bool = False) -> S:
    """Cancel a session entered by mistake; a built one loses its record only when asked to."""
    s = get_session(sess, session_id)
    _not_while(s, "cancelled")
    record_id = sess.scalar(select(Record.id).where(Record.session_id == s.id))
    if record_id is not None:
        if not delete_record:
            raise InvalidInputError(f"session {session_id} has record {record_id}; add --delete-record to cancel it "
                                    "and delete that record")
        sess.execute(delete(Record).where(Record.id == record_id))
    return transition(sess, s.id, S.CANCELLED, actor=actor, reason=reason)
