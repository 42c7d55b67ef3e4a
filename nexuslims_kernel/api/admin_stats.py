"""GET /admin/stats: per-week sessions, instrument hours, files and bytes, and build health (the instrument dashboard).

The window is ``weeks`` weeks (Monday to Sunday, UTC) ending with the week of
``until`` (default: the latest session's start, so a quiet facility still
shows its last busy weeks). Files are counted by modification time from the
file index with one grouped query; sessions are few and bucketed here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.api.params import int_arg, text_arg, time_arg
from nexuslims_kernel.db.models import IndexedFile, Instrument, InstrumentSession, Person

WEEK = 7 * 86400
FAILED = ("ERROR", "NO_FILES", "NO_CONSENT")


def _monday(t: dt.datetime) -> dt.datetime:
    t = t.astimezone(dt.UTC)
    return dt.datetime(t.year, t.month, t.day, tzinfo=dt.UTC) - dt.timedelta(days=t.weekday())


def stats(sess: Session, weeks: int, until: dt.datetime | None, instrument: str | None) -> dict[str, Any]:
    names = dict(sess.execute(select(Instrument.id, Instrument.name)).all())
    if instrument is not None and instrument not in names.values():
        raise ApiError(404, f"no instrument named {instrument!r}")
    wanted = {i for i, n in names.items() if instrument in (None, n)}
    if until is None:
        until = sess.scalar(select(func.max(InstrumentSession.start))) or dt.datetime.now(dt.UTC)
    first = _monday(until) - dt.timedelta(weeks=weeks - 1)
    end = first + dt.timedelta(weeks=weeks)
    labels = [(first + dt.timedelta(weeks=k)).date().isoformat() for k in range(weeks)]
    per = {names[i]: {"sessions": [0] * weeks, "hours": [0.0] * weeks, "files": [0] * weeks, "bytes": [0] * weeks} for i in sorted(wanted)}
    rows = sess.execute(select(InstrumentSession.instrument_id, InstrumentSession.start, InstrumentSession.end)
                        .where(InstrumentSession.start >= first, InstrumentSession.start < end, InstrumentSession.instrument_id.in_(wanted)))
    for inst_id, start, stop in rows:
        k = int((start - first).total_seconds() // WEEK)
        per[names[inst_id]]["sessions"][k] += 1
        if stop is not None and stop > start:
            per[names[inst_id]]["hours"][k] += round((stop - start).total_seconds() / 3600, 2)
    t0 = first.timestamp()
    offset = IndexedFile.mtime - t0
    bucket = func.floor(offset / WEEK) if sess.get_bind().dialect.name == "postgresql" else cast(offset / WEEK, Integer)
    files = sess.execute(
        select(IndexedFile.instrument_id, bucket.label("k"), func.count(), func.coalesce(func.sum(IndexedFile.size), 0))
        .where(IndexedFile.mtime >= t0, IndexedFile.mtime < end.timestamp(), IndexedFile.deleted.is_(False),
               IndexedFile.instrument_id.in_(wanted))
        .group_by(IndexedFile.instrument_id, bucket)
    )
    for inst_id, k, n, nbytes in files:
        per[names[inst_id]]["files"][int(k)] += int(n)
        per[names[inst_id]]["bytes"][int(k)] += int(nbytes)
    status = dict(sess.execute(select(InstrumentSession.status, func.count())
                               .where(InstrumentSession.instrument_id.in_(wanted)).group_by(InstrumentSession.status)).all())
    failed = sess.execute(
        select(InstrumentSession.id, Instrument.name, Person.username, InstrumentSession.start, InstrumentSession.status,
               InstrumentSession.status_reason, InstrumentSession.attempts)
        .join(Instrument, Instrument.id == InstrumentSession.instrument_id).outerjoin(Person, Person.id == InstrumentSession.person_id)
        .where(InstrumentSession.status.in_(FAILED), InstrumentSession.instrument_id.in_(wanted))
        .order_by(InstrumentSession.start.desc()).limit(50)
    )
    return {
        "weeks": labels, "instruments": per, "status": dict(sorted(status.items())),
        "failed": [{"session_id": sid, "instrument": inst, "user": user, "start": start.isoformat() if start else None, "status": st,
                    "reason": reason, "attempts": attempts} for sid, inst, user, start, st, reason, attempts in failed],
    }


class StatsHandler(BaseHandler):
    """GET /admin/stats?weeks=12&until=2026-03-01&instrument=NAME."""

    audience = "admin"

    async def get(self) -> None:
        weeks = int_arg(self, "weeks", 12)
        if not 1 <= weeks <= 260:
            raise ApiError(400, "weeks must be between 1 and 260")
        until, instrument = time_arg(self, "until"), text_arg(self, "instrument")
        self.send_json(await self.run(lambda: self.ctx.db.read(lambda s: stats(s, weeks, until, instrument))))
