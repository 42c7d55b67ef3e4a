"""``nxhub sessions``: list, inspect, add by hand and re-queue instrument sessions (end/edit/cancel: sessions_edit_cmd)."""

from __future__ import annotations

import datetime as dt

import click

from nexuslims_kernel.cli.output import database_for, emit, emit_one
from nexuslims_kernel.errors import InvalidInputError, NotFoundError

COLUMNS = ["id", "instrument", "user", "start", "end", "source", "status", "note"]


def parse_when(value: str | None, tz_name: str, what: str) -> dt.datetime | None:
    """ISO date/time; naive values are taken in the instrument's time zone."""
    if value is None:
        return None
    import zoneinfo

    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"{what} {value!r} is not an ISO date/time such as 2026-11-23T09:30") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zoneinfo.ZoneInfo(tz_name))
    return when.astimezone(dt.UTC)


def session_row(s) -> dict:
    return {
        "id": s.id,
        "instrument": s.instrument.name,
        "user": s.person.username if s.person else None,
        "project": s.project.name if s.project else None,
        "group": s.group.name if s.group else None,
        "start": s.start,
        "end": s.end,
        "source": s.source,
        "status": s.status,
        "status_reason": s.status_reason,
        "note": s.note,
        "record_id": _record_id(s),
    }


def _record_id(s) -> int | None:
    """The id of the session's record (kept across rebuilds), None before its first build."""
    from sqlalchemy import select
    from sqlalchemy.orm import object_session

    from nexuslims_kernel.db.models import Record

    return object_session(s).scalar(select(Record.id).where(Record.session_id == s.id))
def conflicts(events) -> list[dict]:
    """Events that disagree with each other: every END of a session that got more than one different END."""
    ends = [e for e in events if e.kind == "END" and e.client_uuid]
    if len({e.at for e in ends}) < 2:
        return []
    current = max((e for e in events if e.kind == "CORRECTION"), key=lambda e: e.id, default=None)
    winner = (current.payload or {}).get("event") if current else None
    return [{"kind": "END", "uuid": e.client_uuid, "at": e.at.isoformat(), "actor": e.actor,
             "received_at": e.received_at.isoformat(), "applied": e.client_uuid == winner} for e in ends]


@click.group()
def sessions() -> None:
    """List and inspect instrument sessions."""


@sessions.command("list")
@click.option("--instrument", help="Only this instrument.")
@click.option("--status", "status_", help="Only this status, e.g. TO_BE_BUILT.")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@click.pass_context
def list_(ctx: click.Context, instrument: str | None, status_: str | None, limit: int) -> None:
    """Newest sessions first."""
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from nexuslims_kernel.db.directory import get_instrument
    from nexuslims_kernel.db.models import InstrumentSession
    from nexuslims_kernel.sessions import SessionStatus

    stmt = select(InstrumentSession).options(joinedload(InstrumentSession.instrument), joinedload(InstrumentSession.person))
    with database_for(ctx).session() as sess:
        if instrument:
            stmt = stmt.where(InstrumentSession.instrument_id == get_instrument(sess, instrument).id)
        if status_:
            try:
                stmt = stmt.where(InstrumentSession.status == SessionStatus(status_.upper()))
            except ValueError:
                raise InvalidInputError(f"unknown status {status_!r}; one of {', '.join(SessionStatus)}") from None
        stmt = stmt.order_by(InstrumentSession.start.desc().nulls_last(), InstrumentSession.id.desc()).limit(limit)
        rows = [session_row(s) for s in sess.scalars(stmt)]
    emit(ctx, rows, COLUMNS)


@sessions.command("show")
@click.argument("session_id", type=int)
@click.pass_context
def show(ctx: click.Context, session_id: int) -> None:
    """One session with its event log."""
    from nexuslims_kernel.db.models import InstrumentSession

    with database_for(ctx).session() as sess:
        s = sess.get(InstrumentSession, session_id)
        if s is None:
            raise NotFoundError(f"session {session_id} does not exist")
        row = session_row(s) | {"reservation": s.reservation, "attempts": s.attempts, "claimed_by": s.claimed_by,
                                "length_approved": s.length_approved, "share_files": s.share_files}
        row["events"] = [
            {"at": e.at.isoformat(), "kind": e.kind, "actor": e.actor, "from": e.from_status, "to": e.to_status, "payload": e.payload}
            for e in s.events
        ]
        row["conflicts"] = conflicts(s.events)
    emit_one(ctx, row)


@sessions.command("add")
@click.argument("instrument")
@click.option("--start", required=True, help="ISO date/time; naive times are in the instrument's time zone.")
@click.option("--end", help="ISO date/time; without it the session waits for its end.")
@click.option("--user", help="Username of the person who used the instrument.")
@click.option("--project", help="Project name (the user must belong to it).")
@click.option("--group", help="Group the record goes to when the project names none (the user must be a member).")
@click.option("--title", help="Reservation title, shown as the record title.")
@click.option("--note")
@click.pass_context
def add(ctx: click.Context, instrument: str, start: str, end: str | None, user: str | None, project: str | None,
        group: str | None, title: str | None, note: str | None) -> None:
    """Record a session by hand (for sessions no Logger or calendar saw).

    Refused (exit 8) when it overlaps another session on the instrument.
    """
    from nexuslims_kernel.db.directory import get_instrument, get_person
    from nexuslims_kernel.db.models import InstrumentSession, SessionEvent
    from nexuslims_kernel.sessions import SessionSource, SessionStatus, rules

    with database_for(ctx).session(write=True) as sess:
        inst = get_instrument(sess, instrument)
        t0 = parse_when(start, inst.timezone, "--start")
        t1 = parse_when(end, inst.timezone, "--end")
        if t1 is not None and t1 <= t0:
            raise InvalidInputError("--end must be after --start")
        person = get_person(sess, user) if user else None
        person_id = person.id if person else None
        s = InstrumentSession(
            instrument=inst, person=person, start=t0, end=t1, source=SessionSource.MANUAL, note=note,
            project=rules.resolve_project(sess, person_id, project, user) if project else None,
            group=rules.resolve_group(sess, person_id, group, user) if group else None,
            status=SessionStatus.WAITING_FOR_END, reservation={"title": title} if title else {},
        )
        sess.add(s)
        sess.flush()
        rules.admit(sess, s)
        sess.add(SessionEvent(session_id=s.id, instrument_id=inst.id, kind="START", at=t0, actor="cli", payload={}))
        if t1:
            sess.add(SessionEvent(session_id=s.id, instrument_id=inst.id, kind="END", at=t1, actor="cli", payload={}))
        sess.flush()
        row = session_row(s)
    emit_one(ctx, row)


@sessions.command("rebuild")
@click.argument("session_ids", type=int, nargs=-1, required=True)
@click.option("--reason", default="rebuild requested", show_default=True)
@click.option("--share-files", is_flag=True, help="Admin's say-so: the record may take files another record holds.")
@click.pass_context
def rebuild(ctx: click.Context, session_ids: tuple[int, ...], reason: str, share_files: bool) -> None:
    """Queue sessions to be built again (their record keeps its id).

    A session with no end cannot be built (exit 6); one longer than
    sessions.max_length_s goes to NEEDS_REVIEW instead.
    """
    from nexuslims_kernel.sessions.admin import get_session
    from nexuslims_kernel.sessions.machine import transition

    db = database_for(ctx)
    for sid in session_ids:
        with db.session(write=True) as sess:
            if share_files:
                get_session(sess, sid).share_files = True
                sess.flush()
            status = transition(sess, sid, "TO_BE_BUILT", actor="cli", reason=reason)
        click.echo(f"session {sid}: {status}")


def _attach_infer() -> None:
    """`nxhub sessions infer` lives with the builder; end/edit/cancel/approve in their own module."""
    from nexuslims_kernel.cli import sessions_edit_cmd
    from nexuslims_kernel.cli.build_cmd import infer

    sessions.add_command(infer, "infer")
    for command in sessions_edit_cmd.COMMANDS:
        sessions.add_command(command)


_attach_infer()
