"""Logger events in: START / END / NOTE, idempotent on the client's event UUID.

The Logger writes every event to a local outbox and resends until the server
answers, so the same event may arrive many times and in any order. The rules
make the final database independent of the arrival order of one session's
events (sessions themselves arrive in order from the Logger's outbox):

- an event whose UUID was seen before is a no-op when it says the same thing;
  a different event reusing that UUID is refused, naming the field that differs;
- the rules of :mod:`.rules` hold for every event: its time is near the
  server's clock, the session's end follows its start, it overlaps no other
  session on the instrument, its project and group are the user's own;
- a session is keyed by its START event's UUID (``session_uuid``); whichever
  of START / END / NOTE arrives first creates it in WAITING_FOR_END;
- the session moves to TO_BE_BUILT once it has both a start and an end (or to
  NEEDS_REVIEW when it is longer than ``sessions.max_length_s``);
- a second, different END corrects the first: the end moves, a CORRECTION
  event records from what to what, and a built session is queued again;
- the note is rebuilt from all note texts ordered by (time, UUID);
- every event is kept in ``session_events``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.clean import db_clean
from nexuslims_kernel.db.models import InstrumentSession, Person, SessionEvent
from nexuslims_kernel.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from nexuslims_kernel.sessions import rules
from nexuslims_kernel.sessions.review import settle
from nexuslims_kernel.sessions.states import SessionSource, SessionStatus

KINDS = ("START", "END", "NOTE")
MAX_TEXT = 10_000


@dataclasses.dataclass(frozen=True)
class LoggerEvent:
    """One validated event from a Logger."""

    uuid: str
    kind: str
    at: dt.datetime
    session_uuid: str
    user: str | None = None
    project: str | None = None
    group: str | None = None
    text: str | None = None
    reservation: dict[str, Any] = dataclasses.field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        out: dict[str, Any] = {"session_uuid": self.session_uuid}
        for key in ("user", "project", "group", "text"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.reservation:
            out["reservation"] = self.reservation
        return out


def _uuid(value: Any, field: str) -> str:
    try:
        return str(uuidlib.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInputError(f"'{field}' must be a UUID, got {str(value)[:60]!r}") from None


def _time(value: Any) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidInputError(f"'at' must be an ISO-8601 time, got {str(value)[:60]!r}") from None
    if at.tzinfo is None:
        raise InvalidInputError("'at' must include a UTC offset, e.g. 2026-03-01T09:00:00+01:00")
    return at.astimezone(dt.UTC)


def _opt_str(data: Mapping[str, Any], key: str, limit: int = 200) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInputError(f"'{key}' must be a string of at most {limit} characters")
    return db_clean(value)


def parse_event(data: Any, kind: str | None = None) -> LoggerEvent:
    """Validate a JSON event; ``kind`` is forced by kind-specific endpoints."""
    if not isinstance(data, Mapping):
        raise InvalidInputError("an event must be a JSON object")
    kind = (kind or str(data.get("kind", ""))).upper()
    if kind not in KINDS:
        raise InvalidInputError(f"'kind' must be one of {', '.join(KINDS)}")
    event_uuid = _uuid(data.get("uuid"), "uuid")
    if kind == "START":
        session_uuid = event_uuid
    else:
        session_uuid = _uuid(data.get("session_uuid"), "session_uuid")
    reservation = data.get("reservation") or {}
    if not isinstance(reservation, Mapping):
        raise InvalidInputError("'reservation' must be a JSON object")
    return LoggerEvent(
        uuid=event_uuid, kind=kind, at=_time(data.get("at")), session_uuid=session_uuid,
        user=_opt_str(data, "user", 150), project=_opt_str(data, "project", 200), group=_opt_str(data, "group", 150),
        text=db_clean(_opt_str(data, "text", MAX_TEXT)), reservation=db_clean(dict(reservation)),
    )


def _session_for(sess: Session, instrument_id: int, ev: LoggerEvent) -> InstrumentSession:
    s = sess.scalar(select(InstrumentSession).where(InstrumentSession.start_event_uuid == ev.session_uuid))
    if s is not None:
        if s.instrument_id != instrument_id:
            raise NotFoundError(f"session {ev.session_uuid} not found for this instrument")
        return s
    s = InstrumentSession(
        instrument_id=instrument_id, source=SessionSource.LOGGER, status=SessionStatus.WAITING_FOR_END,
        start_event_uuid=ev.session_uuid, reservation={},
    )
    sess.add(s)
    sess.flush()
    return s


def _apply_start(sess: Session, s: InstrumentSession, ev: LoggerEvent) -> None:
    s.start = ev.at
    if ev.user:
        s.person_id = sess.scalar(select(Person.id).where(Person.username == ev.user))
    if ev.project:
        s.project_id = rules.resolve_project(sess, s.person_id, ev.project, ev.user).id
    if ev.group:
        s.group_id = rules.resolve_group(sess, s.person_id, ev.group, ev.user).id
    if ev.reservation:
        s.reservation = {**ev.reservation, **({"username": ev.user} if ev.user and s.person_id is None else {})}
    elif ev.user and s.person_id is None:
        s.reservation = {"username": ev.user}  # unknown user: keep the name for an admin to fix


def _apply_end(sess: Session, s: InstrumentSession, ev: LoggerEvent, actor: str) -> dict[str, Any]:
    """Set the end; a second, different END corrects it (with a CORRECTION audit event)."""
    if s.end is None:
        s.end, s.end_event_uuid = ev.at, ev.uuid
        return {}
    if s.end == ev.at:
        return {"same_as": s.end_event_uuid}  # another END saying the same: kept in the log only
    previous, previous_uuid = s.end, s.end_event_uuid
    s.end, s.end_event_uuid = ev.at, ev.uuid
    sess.add(SessionEvent(
        session_id=s.id, instrument_id=s.instrument_id, kind="CORRECTION", at=utcnow(), actor=actor,
        payload={"field": "end", "from": previous.isoformat(), "to": ev.at.isoformat(),
                 "event": ev.uuid, "replaces": previous_uuid},
    ))
    return {"corrects": previous_uuid}


def _rebuild_note(sess: Session, s: InstrumentSession) -> None:
    rows = sess.execute(
        select(SessionEvent.payload)
        .where(SessionEvent.session_id == s.id, SessionEvent.kind.in_(("START", "NOTE")))
        .order_by(SessionEvent.at, SessionEvent.client_uuid)
    ).scalars()
    texts = [p.get("text") for p in rows if p and p.get("text")]
    s.note = "\n".join(texts) if texts else None


def _differing_field(seen: SessionEvent, instrument_id: int, ev: LoggerEvent) -> str | None:
    """The first field in which a replayed event differs from the stored one, or None."""
    if seen.instrument_id != instrument_id:
        return "instrument"
    if seen.kind != ev.kind:
        return "kind"
    if seen.at != ev.at:
        return "at"
    stored, new = seen.payload or {}, ev.payload()
    return next((key for key in ("session_uuid", "user", "project", "group", "text", "reservation")
                 if stored.get(key) != new.get(key)), None)


def ingest_event(sess: Session, instrument_id: int, ev: LoggerEvent, actor: str,
                 now: dt.datetime | None = None) -> dict[str, Any]:
    """Apply one event inside the caller's (write) transaction; returns what happened.

    Raises (and the caller rolls back) when the event breaks a rule of :mod:`.rules`.
    """
    seen = sess.scalar(select(SessionEvent).where(SessionEvent.client_uuid == ev.uuid))
    if seen is not None:
        field = _differing_field(seen, instrument_id, ev)
        if field is not None:
            raise AlreadyExistsError(f"event uuid {ev.uuid} was already used for an event with a different '{field}'; "
                                     "a new event needs a new uuid")
        status = sess.scalar(select(InstrumentSession.status).where(InstrumentSession.id == seen.session_id))
        return {"uuid": ev.uuid, "session_id": seen.session_id, "status": status, "duplicate": True}
    rules.check_event_time(ev.at, now)
    s = _session_for(sess, instrument_id, ev)
    extra: dict[str, Any] = {}
    if ev.kind == "START":
        _apply_start(sess, s, ev)
    elif ev.kind == "END":
        extra = _apply_end(sess, s, ev, actor)
    if ev.kind in ("START", "END") and s.status != SessionStatus.CANCELLED:
        sess.flush()
        rules.check_span(sess, instrument_id, s.start, s.end, exclude_id=s.id)
    sess.add(SessionEvent(
        session_id=s.id, instrument_id=instrument_id, client_uuid=ev.uuid, kind=ev.kind, at=ev.at, actor=actor,
        payload={**ev.payload(), **extra},
    ))
    sess.flush()
    if ev.kind in ("START", "NOTE"):
        _rebuild_note(sess, s)
        sess.flush()
    corrected = "corrects" in extra
    settle(sess, s, actor=actor, rebuild=corrected,
           reason="end corrected in the Logger: rebuild" if corrected else "ended in the Logger")
    out = {"uuid": ev.uuid, "session_id": s.id, "status": str(s.status), "duplicate": False}
    return out | ({"corrected": True} if "corrects" in extra else {})
