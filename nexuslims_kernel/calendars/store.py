"""Write what a harvester read: reservations, sessions, deletions and the cursor, in one transaction.

Each source is applied in one write transaction (SQLite: ``BEGIN IMMEDIATE``;
PostgreSQL: an advisory lock on the source's key), so two harvests of the same
server at once queue instead of racing, and the second one finds every event
already stored (fingerprints equal) and changes nothing. One bad event is
reported by name and skipped (its savepoint rolls back); the others are stored.
The cursor moves only after the events are stored: a crash or a server that
goes down halfway loses nothing, the next run reads the same events again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from nexuslims_kernel.calendars.base import Booking, Fetched, ProjectRef, Source
from nexuslims_kernel.calendars.match import ReservationIndex, fill_logged_sessions, reservation_fields
from nexuslims_kernel.calendars.people import Directory
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import HarvestState, InstrumentSession, Reservation
from nexuslims_kernel.errors import NxhubError
from nexuslims_kernel.sessions.external import (
    ExternalSession,
    cancel_external_session,
    current_fingerprint,
    upsert_external_session,
)

CHUNK = 250  # events per savepoint
RECENT = dt.timedelta(days=1)


@dataclasses.dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deferred: int = 0
    no_consent: int = 0
    cancelled: int = 0
    reservations: int = 0
    filled: int = 0
    errors: list[str] = dataclasses.field(default_factory=list)

    def add(self, outcome: str, consent: bool | None) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome in ("created", "updated") and consent is False:
            self.no_consent += 1

    def summary(self) -> str:
        parts = [f"{self.created} new", f"{self.updated} updated", f"{self.cancelled} cancelled",
                 f"{self.no_consent} without consent", f"{self.reservations} reservations changed"]
        if self.filled:
            parts.append(f"{self.filled} logged sessions matched")
        if self.deferred:
            parts.append(f"{self.deferred} deferred (being built)")
        if self.errors:
            parts.append(f"{len(self.errors)} errors")
        return ", ".join(parts)


def state_key(source: Source) -> str:
    """Per server *and* instrument set: ``--instrument X`` must not move the cursor of the whole server."""
    ids = ",".join(map(str, sorted(source.instrument_ids)))
    if len(ids) > 64:
        ids = "sha256:" + hashlib.sha256(ids.encode()).hexdigest()[:32]
    return f"{source.kind}:{source.key}|{ids}"


def read_state(db: Database, source: Source) -> HarvestState | None:
    with db.session() as sess:
        return sess.get(HarvestState, state_key(source))


def _lock(sess: Session, key: str) -> None:
    if sess.get_bind().dialect.name == "postgresql":
        sess.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(hashlib.sha256(key.encode()).hexdigest()[:15], 16)})


def _upsert_reservation(sess: Session, b: Booking, row: Reservation | None, people: Directory) -> None:
    fingerprint = b.fingerprint()
    if row is None:
        row = Reservation(source=b.source, external_id=b.external_id)
        sess.add(row)
    row.instrument_id, row.start, row.end, row.cancelled, row.fingerprint = b.instrument_id, b.start, b.end, b.cancelled, fingerprint
    row.person_id, row.project_id = people.person_id(b.person), people.project_id(b.project)
    row.details = {**b.details, **({"consent": b.consent} if b.consent is not None else {})}
    sess.flush()


def _session_of(b: Booking, people: Directory, index: ReservationIndex) -> ExternalSession:
    person_id, project_id = people.person_id(b.person), people.project_id(b.project)
    fields, consent = reservation_fields(index.best(b.instrument_id, b.start, b.end, person_id))
    if b.consent is not None:
        consent = b.consent  # the usage answer is the later, more specific one
    details = {**fields, **b.details}
    if project_id is None and details.get("project"):
        project_id = people.project_id(ProjectRef(name=str(details["project"])))
    return ExternalSession(source=b.source, external_id=b.external_id, instrument_id=b.instrument_id, start=b.start,
                           end=b.end, person_id=person_id, project_id=project_id, reservation=details, consent=consent,
                           fingerprint=hashlib.sha256((b.fingerprint() + repr(sorted(fields.items()))).encode()).hexdigest())


def _existing(sess: Session, model: type, source: Source, bookings: list[Booking]) -> dict[str, Any]:
    """Rows of ``model`` (sessions or reservations) already stored for ``bookings``, by external id."""
    ids = [b.external_id for b in bookings]
    out: dict[str, Any] = {}
    for i in range(0, len(ids), 500):
        out.update((row.external_id, row) for row in sess.scalars(select(model).where(
            model.source == source.kind, model.external_id.in_(ids[i:i + 500]))))
    return out


def _upsert_one(sess: Session, source: Source, b: Booking, ext: ExternalSession, current: InstrumentSession | None,
                counts: Counts, actor: str) -> None:
    """One event in its own savepoint: a refused one is reported by name and the others go on."""
    try:
        with sess.begin_nested():
            outcome = upsert_external_session(sess, ext, actor=actor, current=current)
    except (NxhubError, IntegrityError) as exc:
        counts.errors.append(f"{source.kind} {source.label}: {b.label} ({b.start.isoformat()} to {b.end.isoformat()}): {exc}")
        return
    counts.add(outcome, b.consent)


def _store_usage(sess: Session, source: Source, batch: list[tuple[Booking, ExternalSession, InstrumentSession | None]],
                 counts: Counts, actor: str) -> None:
    """Store changed events CHUNK at a time in one savepoint; a chunk with a refused event is redone one by one."""
    todo = []
    for b, ext, current in batch:
        if current is not None and current_fingerprint(current) == ext.fingerprint:
            counts.unchanged += 1  # the common case on every pass: no savepoint, no write
        else:
            todo.append((b, ext, current))
    for i in range(0, len(todo), CHUNK):
        chunk, outcomes = todo[i:i + CHUNK], []
        try:
            with sess.begin_nested():
                for b, ext, current in chunk:
                    outcomes.append((upsert_external_session(sess, ext, actor=actor, current=current), b.consent))
        except (NxhubError, IntegrityError):
            for b, ext, current in chunk:
                _upsert_one(sess, source, b, ext, current, counts, actor)
            continue
        for outcome, consent in outcomes:
            counts.add(outcome, consent)


def _cancel_missing(sess: Session, source: Source, fetched: Fetched, counts: Counts, actor: str) -> None:
    """Cancel what a complete listing no longer has (a cancelled event is listed only as a reservation)."""
    lo, hi = fetched.window
    prefix = f"{source.key}/"
    used = {b.external_id for b in fetched.bookings if b.kind == "usage"}
    booked = {b.external_id for b in fetched.bookings if b.kind == "reservation"}
    sessions = [s for s in sess.scalars(select(InstrumentSession).where(
        InstrumentSession.source == source.kind, InstrumentSession.instrument_id.in_(source.instrument_ids),
        InstrumentSession.end >= lo, InstrumentSession.end <= hi, InstrumentSession.status != "CANCELLED"))
        if (s.external_id or "").startswith(prefix) and s.external_id not in used]
    reservations = [r for r in sess.scalars(select(Reservation).where(
        Reservation.source == source.kind, Reservation.instrument_id.in_(source.instrument_ids),
        Reservation.end >= lo, Reservation.start <= hi, Reservation.cancelled.is_(False)))
        if r.external_id.startswith(prefix) and r.external_id not in booked]
    missing = [s.external_id for s in sessions] + [r.external_id for r in reservations]
    still_there = fetched.confirm_missing(missing) if missing and fetched.confirm_missing else set()
    for s in sessions:
        if s.external_id not in still_there and cancel_external_session(
                sess, s, actor=actor, reason=f"deleted from {source.kind} {source.label}"):
            counts.cancelled += 1
    for r in reservations:
        if r.external_id not in still_there:
            r.cancelled = True
            counts.reservations += 1


def _merge_cursor(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Two harvests at once: keep the later time of each cursor field (ISO strings sort by time in UTC)."""
    out = {**old, **new}
    for key, value in old.items():
        if key.endswith("_at") and isinstance(value, str) and isinstance(new.get(key), str):
            out[key] = max(value, new[key])
    return out


def apply(db: Database, source: Source, fetched: Fetched, *, actor: str = "harvest") -> Counts:
    """Store ``fetched`` for ``source``; see the module doc for the guarantees."""
    counts = Counts(errors=list(fetched.errors))
    key = state_key(source)
    with db.session(write=True) as sess:
        _lock(sess, f"{source.kind}:{source.key}")  # the server: a run for one instrument queues behind a run for all
        people = Directory(sess)
        earliest: dt.datetime | None = None
        booked = [b for b in fetched.bookings if b.kind == "reservation"]
        stored = _existing(sess, Reservation, source, booked)
        for b in booked:
            row = stored.get(b.external_id)
            if row is not None and row.fingerprint == b.fingerprint():
                continue
            try:
                with sess.begin_nested():
                    _upsert_reservation(sess, b, row, people)
            except NxhubError as exc:
                counts.errors.append(f"{source.kind} {source.label}: {b.label}: {exc}")
                continue
            counts.reservations += 1
            earliest = min(earliest or b.start, b.start)
        # one per event: NEMO's pages can repeat a row when events are added while we page
        usage = list({b.external_id: b for b in fetched.bookings if b.kind == "usage" and b.end is not None}.values())
        if usage:
            existing = _existing(sess, InstrumentSession, source, usage)
            index = ReservationIndex(sess, source.instrument_ids, min(b.start for b in usage), max(b.end for b in usage))
            batch = [(b, _session_of(b, people, index), existing.get(b.external_id)) for b in usage]
            _store_usage(sess, source, batch, counts, actor)
        if fetched.window is not None:
            _cancel_missing(sess, source, fetched, counts, actor)
            earliest = min(earliest or fetched.window[0], fetched.window[0])
        # every pass: logged sessions of the last day (new ones), and any a changed reservation may concern
        since = min(earliest or utcnow(), utcnow() - RECENT)
        counts.filled = fill_logged_sessions(sess, source.instrument_ids, since, actor=actor)
        state = sess.get(HarvestState, key) or HarvestState(key=key, cursor={})
        sess.add(state)
        now = utcnow()
        state.cursor = _merge_cursor(dict(state.cursor or {}), fetched.cursor)
        state.last_ok_at = now
        if fetched.window is not None:
            state.last_full_at = now
        state.last_error = "\n".join(counts.errors)[:10_000] or None
    return counts


def record_failure(db: Database, source: Source, message: str) -> None:
    """Remember why a source could not be read (``nxhub harvest`` shows it); the cursor stays put."""
    with db.session(write=True) as sess:
        state = sess.get(HarvestState, state_key(source)) or HarvestState(key=state_key(source), cursor={})
        state.last_error = message[:10_000]
        sess.add(state)
