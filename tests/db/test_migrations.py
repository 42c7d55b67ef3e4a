"""Migrations: from empty to head, and a downgrade/upgrade round trip that keeps rows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select

from nexuslims_kernel.db import Database, current_revision, downgrade, head_revision, require_current, upgrade
from nexuslims_kernel.db.directory import add_group, add_instrument, add_person, set_membership
from nexuslims_kernel.db.migrate import all_revisions
from nexuslims_kernel.db.models import Instrument, InstrumentSession, Person
from nexuslims_kernel.errors import DatabaseError

UTC = dt.UTC


def test_upgrade_from_empty_creates_every_table(db_url: str) -> None:
    db = Database(db_url)
    assert current_revision(db) is None
    with pytest.raises(DatabaseError, match="not initialised: run 'nxhub init'"):
        require_current(db)
    upgrade(db)
    assert current_revision(db) == head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert {"instruments", "people", "groups", "memberships", "projects", "sessions", "session_events",
            "indexed_files", "records", "activities", "datasets"} <= tables
    require_current(db)
    db.dispose()


def test_downgrade_then_upgrade_keeps_rows(db: Database) -> None:
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "Titan", timezone="Europe/Berlin", filestore_root="/data/titan")
        add_person(sess, "alice", display_name="Alice Ä")
        add_group(sess, "lab")
        set_membership(sess, "lab", "alice", True)
        sess.add(InstrumentSession(instrument=inst, source="logger", start=dt.datetime(2026, 1, 2, 9, tzinfo=UTC)))
    revisions = all_revisions()[:-1]
    for rev in revisions:  # step back to each older revision and forward again
        downgrade(db, rev)
        upgrade(db)
    with db.session() as sess:
        assert sess.scalar(select(Instrument.timezone)) == "Europe/Berlin"
        person = sess.scalar(select(Person))
        assert person.display_name == "Alice Ä" and [g.name for g in person.groups] == ["lab"]
        assert sess.scalar(select(InstrumentSession.start)) == dt.datetime(2026, 1, 2, 9, tzinfo=UTC)
    # Down to nothing and back: the schema comes back whole.
    downgrade(db, "base")
    assert current_revision(db) is None
    upgrade(db)
    assert current_revision(db) == head_revision()


def test_unreachable_database_is_a_clear_error(tmp_path) -> None:
    db = Database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(DatabaseError, match="cannot open database postgresql"):
        current_revision(db)
