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


def test_an_end_corrected_while_building_queues_the_session_again(db, settings, tmp_path: Path, corpus_dir: Path) -> None:
    from nexuslims_kernel.builder import build_claimed, claim_next
    from nexuslims_kernel.sessions.events import ingest_event, parse_event

    root = tmp_path / "store"
    inst = add_store(db, root)
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(microsecond=0)
    (sid,) = add_sessions(db, inst, [start], hours=1)
    place(corpus_dir / "rosettasciio/dm/synthetic_2D_test-1.dm3", root / "x.dm3", start + dt.timedelta(minutes=5))
    assert claim_next(db, "w1") == sid
    with db.session(write=True) as sess:
        sess.get(InstrumentSession, sid).start_event_uuid = "00000000-0000-4000-8000-000000000001"
    landed = []

    def end_lands_mid_build(step: str, *_: int) -> None:  # the Logger's END arrives once the files are found
        if landed:
            return
        landed.append(step)
        with db.session(write=True) as sess:
            ingest_event(sess, inst, parse_event({"kind": "END", "uuid": "00000000-0000-4000-8000-000000000002",
                                                  "session_uuid": "00000000-0000-4000-8000-000000000001",
                                                  "at": (start + dt.timedelta(hours=2)).isoformat()}), actor="logger")

    result = build_claimed(db, sid, "w1", settings, progress=end_lands_mid_build)
    assert result.status == "TO_BE_BUILT"
    with db.session() as sess:
        s = sess.get(InstrumentSession, sid)
        assert (s.status, s.status_reason, s.claimed_by, s.attempts) == ("TO_BE_BUILT", "end corrected while building", None, 0)
        assert sess.scalar(select(Record.id)) is None
