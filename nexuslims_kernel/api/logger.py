"""Logger endpoints: events in (idempotent), heartbeat, today's reservations. Instrument token only."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.models import Instrument, InstrumentSession, Person, Project
from nexuslims_kernel.sessions.events import LoggerEvent, ingest_event, parse_event

MAX_BATCH = 500


class LoggerHandler(BaseHandler):
    audience = "instrument"


class EventsHandler(LoggerHandler):
    """POST /logger/events (one event or {"events": [...]}) and /logger/{start,end,note}."""

    async def post(self, kind: str | None = None) -> None:
        body = self.json_body()
        batch = isinstance(body, dict) and "events" in body and kind is None
        raw = body["events"] if batch else [body]
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BATCH:
            raise ApiError(400, f"'events' must be a list of 1 to {MAX_BATCH} events")
        events = [parse_event(item, kind.upper() if kind else None) for item in raw]
        results = [await self.run(self._ingest, ev) for ev in events]
        self.send_json({"results": results} if batch else results[0])

    def _ingest(self, ev: LoggerEvent) -> dict[str, Any]:
        # A concurrent request with the same event or session may win the insert:
        # retry once, and the replay rule makes the retry a clean no-op.
        for attempt in range(3):
            try:
                with self.ctx.db.session(write=True) as sess:
                    return ingest_event(sess, self.principal.instrument_id, ev, actor=self.principal.label)
            except IntegrityError:
                if attempt == 2:
                    raise ApiError(409, f"event {ev.uuid} conflicts with a concurrent update; resend it") from None
        raise AssertionError("unreachable")


class HeartbeatHandler(LoggerHandler):
    """GET/POST /logger/heartbeat: the server is up and knows this token; server time for clock checks."""

    async def get(self) -> None:
        self.send_json({"instrument": self.principal.instrument_name, "server_time": utcnow().isoformat()})

    post = get


class ReservationsHandler(LoggerHandler):
    """GET /logger/reservations: today's sessions on this instrument plus the people and projects to pick from."""

    async def get(self) -> None:
        self.send_json(await self.run(self._today))

    def _today(self) -> dict[str, Any]:
        with self.ctx.db.session() as sess:
            inst = sess.get(Instrument, self.principal.instrument_id)
            tz = ZoneInfo(inst.timezone or "UTC")
            local_midnight = dt.datetime.combine(dt.datetime.now(tz).date(), dt.time(), tzinfo=tz)
            day_start, day_end = local_midnight.astimezone(dt.UTC), (local_midnight + dt.timedelta(days=1)).astimezone(dt.UTC)
            rows = sess.execute(
                select(InstrumentSession, Person.username, Project.name)
                .outerjoin(Person, Person.id == InstrumentSession.person_id)
                .outerjoin(Project, Project.id == InstrumentSession.project_id)
                .where(InstrumentSession.instrument_id == inst.id, InstrumentSession.start < day_end,
                       (InstrumentSession.end.is_(None)) | (InstrumentSession.end >= day_start))
                .order_by(InstrumentSession.start)
            ).all()
            sessions = [{
                "id": s.id, "source": s.source, "status": s.status, "start": s.start.isoformat() if s.start else None,
                "end": s.end.isoformat() if s.end else None, "user": user, "project": project,
                "title": (s.reservation or {}).get("title"),
            } for s, user, project in rows]
            people = sess.execute(select(Person.username, Person.display_name).order_by(Person.username)).all()
            projects = sess.scalars(select(Project.name).order_by(Project.name)).all()
            return {
                "instrument": inst.name, "timezone": inst.timezone, "reservations": sessions,
                "users": [{"username": u, "display_name": d} for u, d in people], "projects": list(projects),
            }
