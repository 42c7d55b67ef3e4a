"""Database.read: the fast read path for API lists and facets survives a server-side disconnect."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from nexuslims_kernel.db import Database
from nexuslims_kernel.db.directory import add_person
from nexuslims_kernel.db.models import Person


def test_read_sees_committed_rows(db: Database) -> None:
    with db.session(write=True) as sess:
        add_person(sess, "alice")
    assert db.read(lambda sess: sess.scalar(select(Person.username))) == "alice"
    with db.session(write=True) as sess:
        add_person(sess, "bob")
    assert db.read(lambda sess: sorted(sess.scalars(select(Person.username)))) == ["alice", "bob"]


def test_read_runs_again_when_its_pooled_connection_was_killed(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("an embedded SQLite database has no server connection to lose")
    backend = db.read(lambda sess: sess.scalar(text("SELECT pg_backend_pid()")))
    with db.session() as admin:  # what a server restart or an idle-timeout does to the pooled connection
        assert admin.scalar(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": backend}) is True
    again = db.read(lambda sess: sess.scalar(text("SELECT pg_backend_pid()")))
    assert again != backend


def test_read_does_not_hold_a_transaction_open(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL autocommit reads")
    status = db.read(lambda sess: sess.connection().connection.dbapi_connection.info.transaction_status.name)
    assert status == "IDLE"  # no BEGIN/COMMIT round trips, no snapshot kept while Python works
