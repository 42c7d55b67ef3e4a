"""What an instrument's Logger may show in its user picker, and nothing more.

An instrument token is a shared secret on a microscope PC: it gets today's
reservations on its own instrument and the people allowed on it (anyone with a
session there in the last ``sessions.picker_history_days`` days, or today),
with their projects — never the facility's whole directory.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.config import SessionSettings, get_settings
from nexuslims_kernel.db.models import Instrument, InstrumentSession, Person, Project, memberships
from nexuslims_kernel.sessions.states import SessionStatus


def _today(inst: Instrument, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    tz = ZoneInfo(inst.timezone or "UTC")
    local_midnight = dt.datetime.combine(now.astimezone(tz).date(), dt.time(), tzinfo=tz)
    return local_midnight.astimezone(dt.UTC), (local_midnight + dt.timedelta(days=1)).astimezone(dt.UTC)


def _projects_of(sess: Session, person_ids: list[int]) -> dict[int, list[str]]:
    """Projects each person may pick: those of their groups, and projects open to all (no group)."""
    open_to_all = list(sess.scalars(select(Project.name).where(Project.group_id.is_(None)).order_by(Project.name)))
    out: dict[int, list[str]] = {pid: list(open_to_all) for pid in person_ids}
    rows = sess.execute(
        select(memberships.c.person_id, Project.name)
        .join(Project, Project.group_id == memberships.c.group_id)
        .where(memberships.c.person_id.in_(person_ids))
        .order_by(Project.name)
    )
    for pid, name in rows:
        out[pid].append(name)
    return {pid: sorted(set(names)) for pid, names in out.items()}


def picker_for(sess: Session, instrument_id: int, now: dt.datetime | None = None,
               rules: SessionSettings | None = None) -> dict[str, Any]:
    """Today's reservations on the instrument and the people (with their projects) allowed on it."""
    rules = rules or get_settings().sessions
    now = now or dt.datetime.now(dt.UTC)
    inst = sess.get(Instrument, instrument_id)
    day_start, day_end = _today(inst, now)
    live = InstrumentSession.status != SessionStatus.CANCELLED
    rows = sess.execute(
        select(InstrumentSession, Person.username, Project.name)
        .outerjoin(Person, Person.id == InstrumentSession.person_id)
        .outerjoin(Project, Project.id == InstrumentSession.project_id)
        .where(InstrumentSession.instrument_id == inst.id, live, InstrumentSession.start < day_end,
               (InstrumentSession.end.is_(None)) | (InstrumentSession.end >= day_start))
        .order_by(InstrumentSession.start)
    ).all()
    reservations = [{
        "id": s.id, "source": s.source, "status": s.status, "start": s.start.isoformat() if s.start else None,
        "end": s.end.isoformat() if s.end else None, "user": user, "project": project,
        "title": (s.reservation or {}).get("title"),
    } for s, user, project in rows]
    since = min(day_start, now - dt.timedelta(days=rules.picker_history_days))
    people = sess.execute(
        select(Person.id, Person.username, Person.display_name)
        .where(Person.id.in_(select(InstrumentSession.person_id).where(
            InstrumentSession.instrument_id == inst.id, live, InstrumentSession.start < day_end,
            (InstrumentSession.end.is_(None)) | (InstrumentSession.end >= since))))
        .order_by(Person.username)
    ).all()
    projects = _projects_of(sess, [p.id for p in people])
    users = [{"username": p.username, "display_name": p.display_name, "projects": projects[p.id]} for p in people]
    return {
        "instrument": inst.name, "timezone": inst.timezone, "reservations": reservations, "users": users,
        "projects": sorted({name for u in users for name in u["projects"]}),
    }
