"""Sessions a calendar reports (NEMO usage, iCalendar events): create, update, cancel, idempotently.

A calendar session is keyed by ``(source, external_id)`` (unique in the
table), so harvesting the same event twice, or from two processes, yields one
session. What the calendar said is fingerprinted: an unchanged event is a
no-op, a changed one updates the session and queues its record for a rebuild,
an explicit "no" to data consent moves it to NO_CONSENT, and an event deleted
from the calendar cancels its session. Status moves go through
:func:`~nexuslims_kernel.sessions.machine.transition`, so they are audited and
race-safe like every other source's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from nexuslims_kernel.db.models import InstrumentSession, SessionEvent
from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.sessions.machine import transition
from nexuslims_kernel.sessions.rules import admit, check_span
from nexuslims_kernel.sessions.states import SessionStatus

S = SessionStatus
FINGERPRINT = "calendar_fingerprint"  # kept in sessions.reservation; the header ignores it
REQUEUE_FROM = (S.COMPLETED, S.NO_FILES, S.ERROR, S.NO_CONSENT)



@dataclasses.dataclass
class ExternalSession:
    """One ended use of an instrument as a calendar reports it."""

    source: str
    external_id: str
    instrument_id: int
    start: dt.datetime
    end: dt.datetime
    person_id: int | None
    project_id: int | None
    reservation: dict[str, Any]
    consent: bool | None
    fingerprint: str


def move(sess: Session, s: InstrumentSession, to: SessionStatus, *, actor: str, reason: str) -> None:
    """:func:`transition` that also keeps the loaded ``s.status`` true (the guarded UPDATE bypasses the ORM)."""
    set_committed_value(s, "status", transition(sess, s.id, to, actor=actor, reason=reason))


def _check_order(ext: ExternalSession) -> None:
    if ext.end <= ext.start:
        raise InvalidInputError(f"its end {ext.end.isoformat()} is not after its start {ext.start.isoformat()}")


def _apply(s: InstrumentSession, ext: ExternalSession, fingerprint: str) -> None:
    s.start, s.end, s.person_id, s.project_id = ext.start, ext.end, ext.person_id, ext.project_id
    s.reservation = {**ext.reservation, FINGERPRINT: fingerprint}


def _settle_consent(sess: Session, s: InstrumentSession, consent: bool | None, actor: str, source: str) -> None:
    if consent is False and s.status != S.NO_CONSENT:
        if s.status in REQUEUE_FROM:
            move(sess, s, S.TO_BE_BUILT, actor=actor, reason=f"consent withdrawn in {source}")
        move(sess, s, S.NO_CONSENT, actor=actor, reason=f"the user declined data consent in {source}")


def current_fingerprint(s: InstrumentSession) -> str | None:
    return (s.reservation or {}).get(FINGERPRINT)


def upsert_external_session(sess: Session, ext: ExternalSession, *, actor: str, current: InstrumentSession | None) -> str:
    """Create or update the session of ``ext``; returns created | updated | unchanged | deferred.

    Raises :class:`InvalidInputError` (or a session-rule error) when the span is
    refused; run it in a savepoint so the caller can carry on with other events. ``current``:
    the session of ``ext`` the caller loaded (None: there is none yet).
    """
    s = current
    _check_order(ext)
    if s is None:
        s = InstrumentSession(instrument_id=ext.instrument_id, source=ext.source, external_id=ext.external_id,
                              status=S.TO_BE_BUILT)
        _apply(s, ext, ext.fingerprint)
        sess.add(s)
        sess.flush()
        admit(sess, s)  # overlap, membership and review rules; the caller's savepoint undoes a refusal
        sess.add(SessionEvent(session=s, instrument_id=ext.instrument_id, kind="STATUS", at=ext.end, actor=actor,
                              to_status=str(s.status), payload={"reason": f"harvested from {ext.source}", "external_id": ext.external_id}))
        _settle_consent(sess, s, ext.consent, actor, ext.source)
        return "created"
    if current_fingerprint(s) == ext.fingerprint or s.status == S.CANCELLED:
        return "unchanged"
    check_span(sess, ext.instrument_id, ext.start, ext.end, exclude_id=s.id)
    if s.status == S.BUILDING:
        # A worker holds it: take the new facts but keep the old fingerprint, so the next pass queues the rebuild.
        _apply(s, ext, current_fingerprint(s) or "")
        sess.flush()
        return "deferred"
    _apply(s, ext, ext.fingerprint)
    sess.flush()
    if s.status in REQUEUE_FROM and ext.consent is not False:
        move(sess, s, S.TO_BE_BUILT, actor=actor, reason=f"edited in {ext.source}")
    _settle_consent(sess, s, ext.consent, actor, ext.source)
    return "updated"


def cancel_external_session(sess: Session, s: InstrumentSession, *, actor: str, reason: str) -> bool:
    """Cancel a session whose calendar event was deleted; False while a worker builds it (retried later)."""
    if s.status in (S.CANCELLED, S.BUILDING):
        return False
    move(sess, s, S.CANCELLED, actor=actor, reason=reason)
    return True
