"""Which reservation a session belongs to: the one on its instrument that overlaps it most.

Ties go to a reservation of the session's own user, then to the earlier one.
Logged (Logger), manual and inferred sessions get their header fields from it;
a calendar session merges it under its own answers.
"""

from __future__ import annotations

import bisect
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


def pick(candidates: Iterable[Reservation], start: dt.datetime, end: dt.datetime | None,
         person_id: int | None = None) -> Reservation | None:
    """Of ``candidates``, the live one overlapping ``[start, end]`` the longest (ties: same person, earlier)."""
    end = max(end or start, start + dt.timedelta(seconds=1))

    def score(r: Reservation) -> tuple[float, bool, float]:
        overlap = (min(r.end, end) - max(r.start, start)).total_seconds()
        return overlap, person_id is not None and r.person_id == person_id, -r.start.timestamp()

    live = [r for r in candidates if not r.cancelled and r.start < end and r.end > start]
    return max(live, key=score, default=None)


class ReservationIndex:
    """Reservations of some instruments in memory, for matching thousands of sessions without a query each."""

    def __init__(self, sess: Session, instrument_ids: Iterable[int], lo: dt.datetime, hi: dt.datetime) -> None:
        rows = sess.scalars(select(Reservation).where(
            Reservation.instrument_id.in_(list(instrument_ids)), Reservation.cancelled.is_(False),
            Reservation.end > lo, Reservation.start < hi).order_by(Reservation.start))
        self._by_inst: dict[int, list[Reservation]] = {}
        for r in rows:
            self._by_inst.setdefault(r.instrument_id, []).append(r)
        self._starts = {k: [r.start for r in v] for k, v in self._by_inst.items()}
        self._longest = {k: max((r.end - r.start for r in v), default=dt.timedelta(0)) for k, v in self._by_inst.items()}

    def best(self, instrument_id: int, start: dt.datetime, end: dt.datetime | None, person_id: int | None = None) -> Reservation | None:
        rows = self._by_inst.get(instrument_id)
        if not rows:
            return None
        starts = self._starts[instrument_id]
        lo = bisect.bisect_left(starts, start - self._longest[instrument_id])
        hi = bisect.bisect_right(starts, max(end or start, start + dt.timedelta(seconds=1)))
        return pick(rows[lo:hi], start, end, person_id)


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
    sessions = sess.scalars(stmt).all()
    if not sessions:
        return 0
    one_s = dt.timedelta(seconds=1)
    index = ReservationIndex(sess, {s.instrument_id for s in sessions}, min(s.start for s in sessions),
                             max(max(s.end or s.start, s.start + one_s) for s in sessions))  # one query, not one per session
    for s in sessions:
        fields, consent = reservation_fields(index.best(s.instrument_id, s.start, s.end, s.person_id))
        current = dict(s.reservation or {})
        own = current.get("own", {}) if REF in current else current  # what the Logger or an admin set
        if s.source == SessionSource.INFERRED:
            own = {}  # its title is a placeholder ("Inferred session on ..."): the booking says more
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
