"""``nxhub harvest`` and the loop ``nxhub up`` runs: read every calendar source, store what changed.

Sources are read one after the other; one that is down or misconfigured is
reported (server, what was wrong) and skipped without touching its cursor, so
nothing is lost and the next run retries. Each source gets one progress line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from nexuslims_kernel.calendars import store
from nexuslims_kernel.calendars.base import HarvestError
from nexuslims_kernel.calendars.registry import factory
from nexuslims_kernel.config import Settings, get_settings
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import Instrument, Person, Project
from nexuslims_kernel.errors import ConfigError, NxhubError

log = logging.getLogger(__name__)
FULL_EVERY = dt.timedelta(hours=1)  # a complete pass (edits, deletions) at least this often


@dataclasses.dataclass
class SourceReport:
    kind: str
    label: str
    ok: bool
    counts: store.Counts | None
    requests: int
    seconds: float
    message: str = ""

    def line(self) -> str:
        if not self.ok:  # the message names the server already
            return f"error: {self.message}" if self.kind == "config" else self.message
        return f"{self.kind} {self.label}: {self.counts.summary()}; {self.requests} requests, {self.seconds:.1f} s"


@dataclasses.dataclass
class HarvestReport:
    sources: list[SourceReport]

    @property
    def errors(self) -> list[str]:
        out = []
        for s in self.sources:
            out.extend([s.message] if not s.ok else s.counts.errors)
        return out

    @property
    def requests(self) -> int:
        return sum(s.requests for s in self.sources)


def _known_ids(db: Database, kind: str, key: str) -> dict[str, set[int]]:
    """Calendar ids of people and projects we already hold, so a quick pass does not fetch them again."""
    ext = f"{kind}:{key}"
    with db.session() as sess:
        users = {v.get(ext) for v in sess.scalars(select(Person.external_ids)) if v and ext in v}
        projects = {v.get(ext) for v in sess.scalars(select(Project.external_ids)) if v and ext in v}
    return {"users": users, "projects": projects}


def _build(kind: str, group: list[Instrument], problems: list[str]) -> list[Any]:
    """The kind's sources for ``group``; an instrument with bad settings is left out (and named), not the rest."""
    make = factory(kind)
    good = []
    for inst in group:
        try:
            for src in make([inst]):
                src.close()
            good.append(inst)
        except ConfigError as exc:
            problems.append(str(exc))
    return make(good) if good else []


def load_sources(db: Database, instrument: str | None = None, problems: list[str] | None = None) -> list[Any]:
    """Sources of every instrument with a harvester (or only ``instrument``); config problems go to ``problems``."""
    with db.session() as sess:
        stmt = select(Instrument).where(Instrument.harvester != "none").order_by(Instrument.id)
        if instrument is not None:
            stmt = select(Instrument).where(Instrument.name == instrument)
        rows = list(sess.scalars(stmt))
    if instrument is not None and not rows:
        raise ConfigError(f"no instrument named {instrument!r} (see 'nxhub instruments list')")
    if instrument is not None and rows[0].harvester == "none":
        raise ConfigError(f"instrument {instrument!r} has no harvester; set one with 'nxhub instruments edit {instrument} --harvester nemo|ical'")
    by_kind: dict[str, list[Instrument]] = {}
    for inst in rows:
        by_kind.setdefault(inst.harvester, []).append(inst)
    out: list[Any] = []
    problems = [] if problems is None else problems
    for kind, group in by_kind.items():
        try:
            out.extend(_build(kind, group, problems))
        except ConfigError as exc:  # an unknown kind
            problems.append(str(exc))
    return out


def harvest_source(db: Database, source: Any, *, since: dt.datetime | None = None, full: bool = False,
                   now: dt.datetime | None = None) -> SourceReport:
    """One pass over one source; never raises for a source that is down (the report says so)."""
    t0, now = time.perf_counter(), now or utcnow()
    state = store.read_state(db, source)
    cursor = dict(state.cursor or {}) if state else {}
    full = full or state is None or state.last_full_at is None or now - state.last_full_at >= FULL_EVERY
    before = getattr(source, "requests", 0)
    try:
        fetched = source.fetch(cursor, since=since, full=full, now=now, known=_known_ids(db, source.kind, source.key))
        counts = store.apply(db, source, fetched)
    except HarvestError as exc:
        store.record_failure(db, source, str(exc))
        return SourceReport(source.kind, source.label, False, None, getattr(source, "requests", 0) - before,
                            time.perf_counter() - t0, str(exc))
    return SourceReport(source.kind, source.label, True, counts, fetched.requests, time.perf_counter() - t0)


def harvest(settings: Settings | None = None, *, db: Database | None = None, instrument: str | None = None,
            since: dt.datetime | None = None, full: bool = False, echo: Callable[[str], None] | None = None) -> HarvestReport:
    """Harvest every calendar source once; ``echo`` gets one progress line per source and each error."""
    from nexuslims_kernel.db import get_database

    db = db or get_database((settings or get_settings()).db_url)
    reports: list[SourceReport] = []
    problems: list[str] = []
    sources = load_sources(db, instrument, problems)
    for problem in problems:
        reports.append(SourceReport("config", "", False, None, 0, 0.0, problem))
        if echo is not None:
            echo(f"error: {problem}")
    for source in sources:
        try:
            report = harvest_source(db, source, since=since, full=full)
        finally:
            source.close()
        reports.append(report)
        if echo is not None:
            echo(report.line())
            for error in report.counts.errors if report.ok else []:
                echo(f"  error: {error}")
    return HarvestReport(reports)


def harvest_loop(settings: Settings, stop_event: threading.Event, *, interval_s: float = 60.0,
                 echo: Callable[[str], None] | None = None) -> None:
    """Harvest every ``interval_s`` until ``stop_event`` is set (what ``nxhub up`` runs in a thread).

    A failing pass is logged and retried at the next tick; the loop never dies of it.
    """
    echo = echo or log.info
    while not stop_event.is_set():
        try:
            harvest(settings, echo=echo)
        except NxhubError as exc:
            log.warning("harvest: %s", exc)
        except Exception:
            log.exception("harvest pass failed; retrying in %.0f s", interval_s)
        stop_event.wait(interval_s)
