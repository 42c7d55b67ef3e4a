"""The rules every session obeys, whatever its source (Logger, CLI, calendar, inference).

- A session's end comes after its start.
- Two sessions on one instrument never overlap (a session with no end yet
  runs until now); CANCELLED ones do not count.
- A session names only a project or group its user belongs to.
- A Logger event's time is within ``sessions.clock_window_s`` before and
  ``sessions.clock_ahead_s`` after the server's clock.
- A session longer than ``sessions.max_length_s`` (or never ended) waits in
  NEEDS_REVIEW for an admin instead of being built (see :mod:`.machine`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.config import SessionSettings, get_settings
from nexuslims_kernel.db.models import Group, InstrumentSession, Person, Project, memberships
from nexuslims_kernel.errors import InvalidInputError, NotAMemberError, SessionConflictError
from nexuslims_kernel.sessions.states import SessionStatus


def session_settings() -> SessionSettings:
    return get_settings().sessions


def _iso(when: dt.datetime | None) -> str:
    return when.isoformat() if when is not None else "(no end)"


def check_order(start: dt.datetime | None, end: dt.datetime | None) -> None:
    """An END before (or at) its START is refused."""
    if start is not None and end is not None and end <= start:
        raise InvalidInputError(f"the session's end {end.isoformat()} is not after its start {start.isoformat()}")


def overlapping(sess: Session, instrument_id: int, start: dt.datetime | None, end: dt.datetime | None,
                exclude_id: int | None = None, now: dt.datetime | None = None) -> InstrumentSession | None:
    """The first other live session on the instrument that the span ``[start, end)`` meets.

    A session with no end yet runs until now: a START inside it is refused, and
    so is a finished span reaching into it. A span whose end is not known yet is
    the instant of its start (its END is checked when it comes), so one
    session's events can arrive in any order. Without a start there is nothing
    to check yet.
    """
    if start is None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    other_start, other_end = InstrumentSession.start, InstrumentSession.end
    if end is None:
        meets = (other_start <= start) & (other_end.is_(None) | (other_end > start))
    else:
        # An open session runs until now (or, if we start after now, from its start on).
        open_other = other_end.is_(None) if start < now else other_end.is_(None) & (other_start > start)
        meets = (other_start < end) & ((other_end.is_not(None) & (other_end > start)) | open_other)
    stmt = select(InstrumentSession).where(
        InstrumentSession.instrument_id == instrument_id,
        InstrumentSession.status != SessionStatus.CANCELLED,
        other_start.is_not(None),
        meets,
    )
    if exclude_id is not None:
        stmt = stmt.where(InstrumentSession.id != exclude_id)
    return sess.scalar(stmt.order_by(other_start, InstrumentSession.id).limit(1))


def check_span(sess: Session, instrument_id: int, start: dt.datetime | None, end: dt.datetime | None,
               exclude_id: int | None = None) -> None:
    """Refuse a span that ends before it starts or overlaps another session on the instrument."""
    check_order(start, end)
    other = overlapping(sess, instrument_id, start, end, exclude_id)
    if other is not None:
        who = f" of {other.person.username}" if other.person is not None else ""
        raise SessionConflictError(
            f"overlaps session {other.id}{who} on this instrument ({_iso(other.start)} to {_iso(other.end)}, "
            f"{other.status}); end, edit or cancel that one first"
        )


def check_event_time(at: dt.datetime, now: dt.datetime | None = None, rules: SessionSettings | None = None) -> None:
    """Refuse event times too far from the server clock (1970 or 2999 are not plausible)."""
    rules = rules or session_settings()
    now = now or dt.datetime.now(dt.UTC)
    if at < now - dt.timedelta(seconds=rules.clock_window_s):
        raise InvalidInputError(
            f"'at' {at.isoformat()} is more than {rules.clock_window_s:g} s before the server's clock "
            f"({now.isoformat(timespec='seconds')}; setting sessions.clock_window_s)"
        )
    if at > now + dt.timedelta(seconds=rules.clock_ahead_s):
        raise InvalidInputError(
            f"'at' {at.isoformat()} is more than {rules.clock_ahead_s:g} s after the server's clock "
            f"({now.isoformat(timespec='seconds')}; check the PC's clock; setting sessions.clock_ahead_s)"
        )


def _in_group(sess: Session, person_id: int | None, group_id: int) -> bool:
    if person_id is None:
        return False
    return sess.scalar(select(memberships.c.person_id).where(
        memberships.c.person_id == person_id, memberships.c.group_id == group_id)) is not None


def resolve_project(sess: Session, person_id: int | None, name: str, username: str | None = None) -> Project:
    """The named project, if the session's user belongs to it (a project without a group is open to all)."""
    project = sess.scalar(select(Project).where(Project.name == name))
    if project is None:
        raise InvalidInputError(f"no project named {name!r}")
    if project.group_id is not None and not _in_group(sess, person_id, project.group_id):
        raise NotAMemberError(f"user {username or '(none)'} does not belong to project {name!r} (group {project.group.name})")
    return project


def resolve_group(sess: Session, person_id: int | None, name: str, username: str | None = None) -> Group:
    """The named group, if the session's user is a member of it."""
    group = sess.scalar(select(Group).where(Group.name == name))
    if group is None:
        raise InvalidInputError(f"no group named {name!r}")
    if not _in_group(sess, person_id, group.id):
        raise NotAMemberError(f"user {username or '(none)'} is not a member of group {name!r}")
    return group


def check_members(sess: Session, s: InstrumentSession) -> None:
    """Re-check a session's project and group against its (possibly changed) user."""
    username = sess.scalar(select(Person.username).where(Person.id == s.person_id)) if s.person_id else None
    if s.project_id is not None:
        resolve_project(sess, s.person_id, sess.get(Project, s.project_id).name, username)
    if s.group_id is not None:
        resolve_group(sess, s.person_id, sess.get(Group, s.group_id).name, username)


def review_reason(s: InstrumentSession, rules: SessionSettings | None = None) -> str | None:
    """Why a session must wait for an admin before it is built, or None."""
    rules = rules or session_settings()
    if s.length_approved or s.start is None or s.end is None:
        return None
    hours = (s.end - s.start).total_seconds() / 3600
    if (s.end - s.start).total_seconds() > rules.max_length_s:
        return (f"lasts {hours:.1f} h, longer than sessions.max_length_s ({rules.max_length_s / 3600:g} h); "
                f"an admin approves it with 'nxhub sessions approve {s.id}'")
    return None


def admit(sess: Session, s: InstrumentSession) -> SessionStatus:
    """Check a new session from the CLI, a calendar or inference and give it its first status.

    The session must be added (flushed) already; raises and leaves the caller
    to roll back when a rule is broken.
    """
    check_span(sess, s.instrument_id, s.start, s.end, exclude_id=s.id)
    check_members(sess, s)
    if s.end is None:
        s.status = SessionStatus.WAITING_FOR_END
    elif review_reason(s):
        s.status, s.status_reason = SessionStatus.NEEDS_REVIEW, review_reason(s)
    else:
        s.status = SessionStatus.TO_BE_BUILT
    sess.flush()
    return SessionStatus(s.status)
