"""A build never sweeps up a store for a session that never ended: it waits for an admin."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from buildkit import add_sessions, add_store, place
from sqlalchemy import select

from nexuslims_kernel.builder import drain
from nexuslims_kernel.db.models import InstrumentSession, Record


def test_drain_sends_a_never_ended_session_to_review_and_builds_nothing(db, settings, tmp_path: Path, corpus_dir: Path) -> None:
    root = tmp_path / "store"
    inst = add_store(db, root)
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    (sid,) = add_sessions(db, inst, [start], status="WAITING_FOR_END")
    with db.session(write=True) as sess:
        sess.get(InstrumentSession, sid).end = None
    place(corpus_dir / "rosettasciio/dm/synthetic_2D_test-1.dm3", root / "x.dm3", start + dt.timedelta(days=1))
    assert drain(db, settings) == []
    with db.session() as sess:
        s = sess.get(InstrumentSession, sid)
        assert s.status == "NEEDS_REVIEW" and "never ended" in s.status_reason
        assert sess.scalar(select(Record.id)) is None
