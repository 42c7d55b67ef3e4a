"""Sessions inferred from bursts of file activity where no session was logged.

Indexed files of an instrument that fall in no existing session's window
(with the grace periods) are sorted by mtime and cut wherever ``gap_s`` of
silence passes; each burst is a proposed session from its first to its last
file. Creating them is idempotent: the external id is derived from the
instrument and the burst's first file time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from nexuslims_kernel.config import Settings, get_settings
from nexuslims_kernel.db.directory import get_instrument
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import IndexedFile, InstrumentSession, SessionEvent
from nexuslims_kernel.files.lookup import session_window
from nexuslims_kernel.sessions import rules
from nexuslims_kernel.sessions.states import SessionSource, SessionStatus

UTC = dt.UTC


@dataclass
class Proposal:
    instrument: str
    start: dt.datetime
    end: dt.datetime
    n_files: int
    external_id: str
    session_id: int | None = None  # set once created


def _uncovered(times: list[float], windows: list[tuple[float, float]]) -> list[float]:
    """Sorted ``times`` outside every window; windows are merged first, then one O(n + m) sweep."""
    merged: list[list[float]] = []
    for lo, hi in sorted(windows):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    out, j = [], 0
    for t in times:
        while j < len(merged) and merged[j][1] < t:
            j += 1
        if j == len(merged) or t < merged[j][0]:
            out.append(t)
    return out


def propose(db: Database, instrument: str, gap_s: float = 1800.0, settings: Settings | None = None) -> list[Proposal]:
    """Bursts of files on ``instrument`` that no session covers."""
    settings = settings or get_settings()
    with db.session() as sess:
        inst = get_instrument(sess, instrument)
        name = inst.name
        times = list(sess.scalars(select(IndexedFile.mtime).where(
            IndexedFile.instrument_id == inst.id, IndexedFile.deleted.is_(False)).order_by(IndexedFile.mtime)))
        sessions = sess.scalars(select(InstrumentSession).where(InstrumentSession.instrument_id == inst.id))
        windows = sorted(session_window(s, settings) for s in sessions)
    free = _uncovered(times, windows)
    bursts: list[list[float]] = []
    for t in free:
        if bursts and t - bursts[-1][-1] <= gap_s:
            bursts[-1].append(t)
        else:
            bursts.append([t])
    out = []
    for burst in bursts:
        start, end = dt.datetime.fromtimestamp(burst[0], UTC), dt.datetime.fromtimestamp(burst[-1], UTC)
        out.append(Proposal(name, start, max(end, start + dt.timedelta(seconds=1)), len(burst),
                            f"{name}@{start.strftime('%Y%m%dT%H%M%SZ')}"))
    return out


def create(db: Database, proposals: list[Proposal], actor: str = "infer") -> list[Proposal]:
    """Insert proposals as TO_BE_BUILT sessions (skipping any created before, or overlapping a session)."""
    with db.session(write=True) as sess:
        for p in proposals:
            existing = sess.scalar(select(InstrumentSession.id).where(
                InstrumentSession.source == SessionSource.INFERRED, InstrumentSession.external_id == p.external_id))
            if existing is not None:
                p.session_id = existing
                continue
            inst = get_instrument(sess, p.instrument)
            if rules.overlapping(sess, inst.id, p.start, p.end) is not None:
                continue  # a burst spanning a logged session: sessions never overlap, so it is left to an admin
            row = InstrumentSession(instrument_id=inst.id, start=p.start, end=p.end, source=SessionSource.INFERRED,
                                    external_id=p.external_id, status=SessionStatus.WAITING_FOR_END,
                                    reservation={"title": f"Inferred session on {inst.name}"},
                                    note=f"inferred from {p.n_files} file(s) with no logged session")
            sess.add(row)
            sess.flush()
            status = rules.admit(sess, row)
            sess.add(SessionEvent(session_id=row.id, instrument_id=inst.id, kind="STATUS", at=p.end, actor=actor,
                                  to_status=status, payload={"reason": "inferred from file activity"}))
            p.session_id = row.id
    return proposals
