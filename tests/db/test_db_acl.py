"""The access rule in the query layer itself, below the API's own refusals (defence in depth)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from nexuslims_kernel.db.acl import Principal, visible_datasets, visible_records
from nexuslims_kernel.db.directory import add_instrument, add_person
from nexuslims_kernel.db.models import Activity, Dataset, InstrumentSession, Record

UTC = dt.UTC


def test_an_instrument_token_sees_no_record_not_even_a_public_one(db) -> None:
    start = dt.datetime(2026, 1, 5, 9, tzinfo=UTC)
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "titan")
        alice = add_person(sess, "alice")
        session = InstrumentSession(instrument_id=inst.id, source="logger", start=start, end=start + dt.timedelta(hours=1),
                                    status="COMPLETED")
        sess.add(session)
        sess.flush()
        record = Record(session_id=session.id, instrument_id=inst.id, title="open data", start=start, owner_id=alice.id,
                        is_public=True, header={}, n_datasets=1, search_text="open")
        sess.add(record)
        sess.flush()
        activity = Activity(record_id=record.id, seq=1)
        sess.add(activity)
        sess.flush()
        sess.add(Dataset(record_id=record.id, activity_id=activity.id, relpath="a.tif", dataset_type="Image"))
        sess.flush()
        logger = Principal.for_instrument(inst)
        anonymous = Principal.anonymous()
        assert sess.scalars(visible_records(anonymous)).all() == [record]  # it is public
        assert sess.scalars(visible_records(logger)).all() == []
        assert sess.scalars(visible_datasets(logger)).all() == []
        assert sess.scalar(select(Record.id).where(Record.id == record.id)) == record.id
