"""Migration 0005 (session rules) keeps every row both ways, and SQLite never reuses a dataset id."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, insert, select

from nexuslims_kernel.db import downgrade, upgrade
from nexuslims_kernel.db.directory import add_instrument
from nexuslims_kernel.db.models import Dataset, InstrumentSession, Record, SessionEvent

T0 = dt.datetime(2026, 1, 2, 9, tzinfo=dt.UTC)


def test_round_trip_keeps_sessions_records_and_events(db) -> None:
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "Titan")
        s = InstrumentSession(instrument=inst, source="manual", start=T0, end=T0 + dt.timedelta(hours=1), status="COMPLETED")
        sess.add(s)
        sess.flush()
        sess.add(SessionEvent(session_id=s.id, instrument_id=inst.id, kind="START", at=T0, actor="t", payload={}))
        rec = Record(session_id=s.id, instrument_id=inst.id, title="kept")
        sess.add(rec)
        sess.flush()
        sess.execute(insert(Dataset), [{"record_id": rec.id, "relpath": f"f{i}.dm3"} for i in range(3)])
    downgrade(db, "0004")
    upgrade(db)
    with db.session(write=True) as sess:
        counts = [sess.scalar(select(func.count()).select_from(t)) for t in (InstrumentSession, SessionEvent, Record, Dataset)]
        assert counts == [1, 1, 1, 3]
        assert sess.scalar(select(InstrumentSession.length_approved)) is False
        top = sess.scalar(select(func.max(Dataset.id)))
        sess.execute(delete(Dataset).where(Dataset.id == top))
        sess.execute(insert(Dataset), [{"record_id": rec.id, "relpath": "new.dm3"}])
        assert sess.scalar(select(Dataset.id).where(Dataset.relpath == "new.dm3")) > top  # a saved link never moves
