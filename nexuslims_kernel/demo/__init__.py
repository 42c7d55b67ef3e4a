"""A small demo facility: ``nxhub demo`` and :func:`run_demo`.

Creates (idempotently) two instruments with file stores under
``<data_dir>/demo-store/<instrument>/``, three users in two groups, two
projects and a week of Logger sessions whose files are written with
rosettasciio's writers (plus exspy's example spectra), then indexes and
builds them with the record builder and sets each record's access.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nexuslims_kernel.config import Settings
from nexuslims_kernel.demo.plan import GROUPS, INSTRUMENTS, USERS, planned_sessions

Progress = Callable[[str], None]


@dataclass
class DemoSummary:
    instruments: list[str] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)  # id, key, instrument, user, files, status, record_id, access
    files_written: int = 0
    built: bool = False
    seconds: float = 0.0


def _write_files(settings: Settings, plans, rows) -> int:
    from nexuslims_kernel.demo.datafiles import write_session_files
    from nexuslims_kernel.demo.facility import session_window, store_root

    kinds = {spec["name"]: spec["kind"] for spec in INSTRUMENTS}
    zones = {spec["name"]: spec["timezone"] for spec in INSTRUMENTS}
    displays = {spec["name"]: spec["display_name"] for spec in INSTRUMENTS}
    names = {u["username"]: u["display_name"] for u in USERS}
    seen_recipes: set[str] = set()
    total = 0
    for n, (plan, row) in enumerate(zip(plans, rows)):
        start, _ = session_window(plan, zones[plan.instrument])
        folder = store_root(settings.data_dir, plan.instrument) / start.date().isoformat() / plan.user
        paths = write_session_files(
            folder,
            plan.recipe,
            start,
            kind=kinds[plan.instrument],
            operator=names[plan.user],
            microscope=displays[plan.instrument],
            seed=n,
            with_examples=plan.recipe not in seen_recipes,
        )
        seen_recipes.add(plan.recipe)
        row["files"] = len(paths)
        total += len(paths)
    return total


def _build(settings: Settings, db: Any, progress: Progress) -> None:
    """Index the demo stores and drain the build queue with the record builder."""
    from nexuslims_kernel import builder, files

    progress("indexing file stores")
    files.scan_all(db, settings=settings)
    progress("building records")
    builder.drain(db, settings=settings)


def run_demo(settings: Settings, sessions: int = 8, build: bool = True, progress: Progress | None = None,
             force: bool = False) -> DemoSummary:
    """Create the demo facility in ``settings``' data dir and database; safe to run again.

    The database carries a demo mark (``facility_meta``) from the demo's first run. A database
    holding anything without that mark is a real facility, whatever its people are called: the
    demo would put them into demo groups and show them demo records, so it is refused
    (:class:`AlreadyExistsError`) unless ``force`` (a forced merge is not marked).
    """
    from sqlalchemy import select

    from nexuslims_kernel.db import get_database, upgrade
    from nexuslims_kernel.db.models import InstrumentSession, Record
    from nexuslims_kernel.demo.facility import apply_access, ensure_directory, ensure_session, foreign_rows, mark_demo_facility
    from nexuslims_kernel.errors import AlreadyExistsError

    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    db = get_database(settings.db_url)
    upgrade(db)
    with db.session() as sess:
        foreign = foreign_rows(sess)
    if foreign and not force:
        raise AlreadyExistsError(
            f"the database holds a facility the demo did not make ({', '.join(foreign)}, ...) and the demo never merges "
            "into one; for a separate demo: nxhub --data-dir .nxhub-demo demo (or --force to merge anyway)")
    plans = planned_sessions(sessions)
    summary = DemoSummary(instruments=[i["name"] for i in INSTRUMENTS])
    summary.users = [
        {
            "username": u["username"],
            "name": u["display_name"],
            "admin": bool(u.get("is_admin")),
            "groups": sorted(g for g, spec in GROUPS.items() if u["username"] in spec["members"]),
        }
        for u in USERS
    ]
    say("creating instruments, users, groups, projects and sessions")
    with db.session(write=True) as sess:
        if not foreign:
            mark_demo_facility(sess)
        instruments = ensure_directory(sess, settings.data_dir)
        for plan in plans:
            session, created = ensure_session(sess, plan, instruments[plan.instrument])
            summary.sessions.append(
                {
                    "id": session.id,
                    "key": plan.key,
                    "instrument": plan.instrument,
                    "user": plan.user,
                    "start": session.start,
                    "created": created,
                }
            )
    say("writing data files")
    with warnings.catch_warnings():  # HyperSpy's import-time deprecations and writers' unit notes are noise here
        warnings.simplefilter("ignore")
        summary.files_written = _write_files(settings, plans, summary.sessions)
    if build:
        _build(settings, db, say)
        summary.built = True
    with db.session(write=True) as sess:
        for plan, row in zip(plans, summary.sessions):
            row["access"] = apply_access(sess, plan, row["id"])  # None while unbuilt
            row["status"] = sess.get(InstrumentSession, row["id"]).status
            row["record_id"] = sess.scalar(select(Record.id).where(Record.session_id == row["id"]))
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


__all__ = ["DemoSummary", "run_demo"]
