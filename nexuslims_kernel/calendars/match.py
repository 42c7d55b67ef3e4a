"""Which reservation a session belongs to: the one on its instrument that overlaps it most.

Ties go to a reservation of the session's own user, then to the earlier one.
Logged (Logger), manual and inferred sessions get their header fields from it;
a calendar session merges it under its own answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.db.models import InstrumentSession, Reservation
from nexuslims_kernel.sessions.external import move
from nexuslims_kernel.sessions.states import SessionSource, SessionStatus

REF = "reservation_id"  # in sessions.reservation: which reservation filled it
FILLED_FROM_OTHERS = (SessionSource.LOGGER, SessionSource.MANUAL, SessionSource.INFERRED)
OPEN = (SessionStatus.WAITING_FOR_END, SessionStatus.TO_BE_BUILT, SessionStatus.NO_FILES, SessionStatus.ERROR, SessionStatus.COMPLETED)


def best_reservation(sess: Session, instrument_id: int, start: dt.datetime, end: dt.datetime | None,
                     person_id: int | None = None) -> Reservation | None:
    """The live reservation overlapping ``[start, end]`` the longest, or None."""
    end = end or start
    rows = sess.scalars(select(Reservation).where(
        Reservation.instrument_id == instrument_id, Reservation.cancelled.is_(False),
        Reservation.start < max(end, start + dt.timedelta(seconds=1)), Reservation.end > start))

    def score(r: Reservation) -> tuple[float, bool, float]:
        overlap = (min(r.end, end) - max(r.start, start)).total_seconds()
        return overlap, person_id is not None and r.person_id == person_id, -r.start.timestamp()

    return max(rows, key=score, default=None)


def reservation_fields(res: Reservation | None) -> tuple[dict[str, Any], bool | None]:
    """(header fields, consent) a reservation gives; nothing when there is none."""
    if res is None:
        return {}, None
    details = dict(res.details or {})
    consent = details.pop("consent", None)
    return {**details, REF: res.external_id}, consent


def fill_logged_sessions(sess: Session, instrument_ids: Iterable[int], since: dt.datetime, *, actor: str) -> int:
    """Give Logger, manual and inferred sessions ending after ``since`` their best reservation's fields.

    Fields the Logger set itself (a title typed at the microscope) win. A record
    already built is queued again when its reservation changed; an explicit
    "no" to data consent moves the session to NO_CONSENT. Returns how many changed.
    """
    changed = 0
    stmt = select(InstrumentSession).where(
        InstrumentSession.instrument_id.in_(list(instrument_ids)), InstrumentSession.source.in_(FILLED_FROM_OTHERS),
        InstrumentSession.status.in_(OPEN), InstrumentSession.start.is_not(None),
        (InstrumentSession.end.is_(None)) | (InstrumentSession.end >= since))
    for s in sess.scalars(stmt).all():
        fields, consent = reservation_fields(best_reservation(sess, s.instrument_id, s.start, s.end, s.person_id))
        current = dict(s.reservation or {})
        own = current.get("own", {}) if REF in current else current  # what the Logger or an admin set
        merged = {**fields, **own, "own": own} if fields else own
        if merged == current:
            continue
        s.reservation = merged
        sess.flush()
        changed += 1
        if s.status == SessionStatus.COMPLETED:
            move(sess, s, SessionStatus.TO_BE_BUILT, actor=actor, reason="its reservation changed")
        if consent is False and s.status in (SessionStatus.TO_BE_BUILT, SessionStatus.WAITING_FOR_END):
            move(sess, s, SessionStatus.NO_CONSENT, actor=actor, reason="the reservation declines data consent")
    return changed
