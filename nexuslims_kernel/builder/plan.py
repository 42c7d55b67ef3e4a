"""What a build of a session would use, without building: ``nxhub build --dry-run``.

The same index update, file lookup, companion grouping and activity clustering as a build.
Files are not read: a file's time is its cached extraction result's acquisition
time when the cache holds one for the current version, else its modification
time (a build may move a file whose vendor time differs from its mtime).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from nexuslims_kernel.builder.extraction import attach_cached, extractor_version, group_files
from nexuslims_kernel.builder.pipeline import activities_of
from nexuslims_kernel.config import Settings
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import InstrumentSession
from nexuslims_kernel.errors import NotFoundError


def _iso(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None


def plan_session(db: Database, session_id: int, settings: Settings, rescan: bool = True) -> dict[str, Any]:
    """The session, its files and the activities a build would make of them.

    Like a build, it first brings the instrument's file index up to date (``rescan``);
    the session, the extraction cache and records are left as they are.
    """
    from nexuslims_kernel.files import find_session_files, scan

    if rescan:
        with db.session() as sess:
            session = sess.get(InstrumentSession, session_id)
            inst_id = session.instrument_id if session is not None and session.instrument.filestore_root else None
        if inst_id is not None:
            scan(db, inst_id, settings)
    with db.session() as sess:
        session = sess.get(InstrumentSession, session_id)
        if session is None:
            raise NotFoundError(f"session {session_id} does not exist")
        inst = session.instrument
        rows = find_session_files(sess, session, settings)
        mains = group_files(inst.filestore_root or "", rows)
        attach_cached(sess, inst.id, mains, extractor_version(inst.timezone))
        out: dict[str, Any] = {"session": session.id, "instrument": inst.name, "status": session.status,
                               "start": session.start, "end": session.end, "files": len(rows)}
        tz = inst.timezone or "UTC"
    activities = []
    for seq, items in enumerate(activities_of(mains, tz, settings.build.activity_sensitivity), start=1):
        seen: dict[str, dict[str, Any]] = {}
        for item in items:  # one entry per file, at its first signal's time
            when = item.acquired_at(tz)
            seen.setdefault(item.relpath, {"relpath": item.relpath, "time": _iso(when),
                                           "time_from": "cached extraction" if item.result else "file mtime",
                                           "companions": list(item.companions)})
        files = list(seen.values())
        times = [f["time"] for f in files if f["time"]]
        activities.append({"seq": seq, "start": min(times, default=None), "end": max(times, default=None),
                           "files": files})
    out["n_activities"] = len(activities)
    out["activities"] = activities
    return out
