"""Create the demo facility's rows (idempotently): instruments, people, groups, projects, sessions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.db import directory
from nexuslims_kernel.db.models import FacilityMeta, Group, Instrument, InstrumentSession, Person, Project, Record
from nexuslims_kernel.demo.plan import GROUPS, INSTRUMENTS, PROJECTS, SOURCE, USERS, WEEK, DemoSession
from nexuslims_kernel.sessions import SessionStatus


def store_root(data_dir: Path, instrument: str) -> Path:
    return data_dir / "demo-store" / instrument


def session_window(plan: DemoSession, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """Start and end of a planned session, aware, in the instrument's zone."""
    day = WEEK + dt.timedelta(days=plan.day)
    start = dt.datetime.combine(day, dt.time(plan.start_hour), tzinfo=ZoneInfo(timezone))
    return start, start + dt.timedelta(hours=plan.hours)


#: The ``facility_meta`` key the demo sets on the database it creates its facility in.
DEMO_KEY = "demo"


def is_demo_facility(sess: Session) -> bool:
    return sess.get(FacilityMeta, DEMO_KEY) is not None


def mark_demo_facility(sess: Session) -> None:
    """Note in the database that the demo made this facility (in the transaction that creates its rows)."""
    if not is_demo_facility(sess):
        sess.add(FacilityMeta(key=DEMO_KEY, value={"by": "nxhub demo"}))


def foreign_rows(sess: Session) -> list[str]:
    """What the database holds that the demo did not make (a few, for a message): nothing in a demo facility.

    Decided by the database's demo mark, never by names: a real facility's first user may well be called alice.
    """
    if is_demo_facility(sess):
        return []
    found: list[str] = []
    for label, column in (("instrument", Instrument.name), ("user", Person.username), ("group", Group.name),
                          ("project", Project.name), ("session", InstrumentSession.id)):
        if len(found) >= 3:
            break
        found += [f"{label} {value}" for value in sess.scalars(select(column).limit(3 - len(found)))]
    return found


def ensure_directory(sess: Session, data_dir: Path) -> dict[str, Instrument]:
    """Instruments, people, groups and projects of the demo; existing ones are left as they are."""
    instruments = {}
    for spec in INSTRUMENTS:
        inst = sess.scalar(select(Instrument).where(Instrument.name == spec["name"]))
        if inst is None:
            root = store_root(data_dir, spec["name"])
            root.mkdir(parents=True, exist_ok=True)
            inst = directory.add_instrument(
                sess,
                spec["name"],
                timezone=spec["timezone"],
                location=spec["location"],
                display_name=spec["display_name"],
                filestore_root=str(root),
            )
        instruments[inst.name] = inst
    for user in USERS:
        if sess.scalar(select(Person.id).where(Person.username == user["username"])) is None:
            directory.add_person(sess, user["username"], display_name=user["display_name"], email=user["email"],
                                 is_admin=user.get("is_admin", False))
    for name, spec in GROUPS.items():
        if sess.scalar(select(Group.id).where(Group.name == name)) is None:
            directory.add_group(sess, name, spec["description"])
        for member in spec["members"]:
            directory.set_membership(sess, name, member, True)
    for proj in PROJECTS:
        if sess.scalar(select(Project.id).where(Project.name == proj["name"])) is None:
            directory.add_project(sess, proj["name"], title=proj["title"], group=proj["group"])
    return instruments


def ensure_session(sess: Session, plan: DemoSession, instrument: Instrument) -> tuple[InstrumentSession, bool]:
    """The planned session, created TO_BE_BUILT if missing; returns (session, created)."""
    found = sess.scalar(
        select(InstrumentSession).where(InstrumentSession.source == SOURCE, InstrumentSession.external_id == plan.key)
    )
    if found is not None:
        return found, False
    start, end = session_window(plan, instrument.timezone)
    person = directory.get_person(sess, plan.user)
    project = sess.scalar(select(Project).where(Project.name == plan.project)) if plan.project else None
    session = InstrumentSession(
        instrument_id=instrument.id,
        person_id=person.id,
        project_id=project.id if project else None,
        start=start.astimezone(dt.UTC),
        end=end.astimezone(dt.UTC),
        source=SOURCE,
        external_id=plan.key,
        status=SessionStatus.TO_BE_BUILT,
        reservation=dict(plan.reservation),
        note="demo session",
    )
    sess.add(session)
    sess.flush()
    return session, True


def apply_access(sess: Session, plan: DemoSession, session_id: int) -> str | None:
    """Make the session's record public, group-only (the default) or private; returns the record's access."""
    record = sess.scalar(select(Record).where(Record.session_id == session_id))
    if record is None:
        return None
    if plan.access == "public":
        record.is_public = True
    elif plan.access == "private":
        record.is_public, record.group_id = False, None
    return plan.access
