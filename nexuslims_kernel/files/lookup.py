"""A session's files: a range query on (instrument_id, mtime), never a walk of the store."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.config import Settings, get_settings
from nexuslims_kernel.db.models import IndexedFile, InstrumentSession


def session_window(session: InstrumentSession, settings: Settings | None = None) -> tuple[float, float]:
    """Epoch seconds [start - grace_before, end + grace_after]; an open session ends now."""
    build = (settings or get_settings()).build
    start = session.start or session.end or dt.datetime.now(dt.UTC)
    end = session.end or dt.datetime.now(dt.UTC)
    return start.timestamp() - build.grace_before_s, end.timestamp() + build.grace_after_s


def find_files(sess: Session, instrument_id: int, lo: float, hi: float) -> list[IndexedFile]:
    """Live indexed files of an instrument with lo <= mtime <= hi, oldest first (uses ix_indexed_files_instrument_mtime)."""
    stmt = (
        select(IndexedFile)
        .where(IndexedFile.instrument_id == instrument_id, IndexedFile.mtime >= lo, IndexedFile.mtime <= hi,
               IndexedFile.deleted.is_(False))
        .order_by(IndexedFile.mtime, IndexedFile.relpath)
    )
    return list(sess.scalars(stmt))


def find_session_files(sess: Session, session: InstrumentSession, settings: Settings | None = None) -> list[IndexedFile]:
    """Files of ``session``: modified inside its window widened by the configured grace periods."""
    lo, hi = session_window(session, settings)
    return find_files(sess, session.instrument_id, lo, hi)


def indexed_by_relpath(sess: Session, instrument_id: int, relpaths: list[str], chunk: int = 500) -> dict[str, IndexedFile]:
    """Live index rows of these files of an instrument, by relpath (IN lists in chunks; a record can have thousands)."""
    found: dict[str, IndexedFile] = {}
    for lo in range(0, len(relpaths), chunk):
        rows = sess.scalars(select(IndexedFile).where(
            IndexedFile.instrument_id == instrument_id, IndexedFile.relpath.in_(relpaths[lo:lo + chunk]),
            IndexedFile.deleted.is_(False)))
        found.update((r.relpath, r) for r in rows)
    return found
