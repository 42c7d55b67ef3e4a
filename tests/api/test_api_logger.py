"""The Logger protocol over HTTP: idempotent replays, any order, same final database."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from pathlib import Path

import pytest
from apikit import ApiServer
from sqlalchemy import select

from nexuslims_kernel.db import Database, upgrade
from nexuslims_kernel.db.directory import add_instrument, add_person, issue_instrument_token
from nexuslims_kernel.db.models import Instrument, InstrumentSession, Person, SessionEvent

UTC = dt.UTC
T0 = dt.datetime(2026, 2, 2, 8, tzinfo=UTC)


def make_events(n_sessions: int = 250, seed: int = 7) -> list[dict]:
    """START, END and two NOTEs per session: 4 * n_sessions events."""
    rnd = random.Random(seed)
    events = []
    for i in range(n_sessions):
        start = T0 + dt.timedelta(minutes=37 * i)
        sid = str(uuid.UUID(int=rnd.getrandbits(128)))
        user = rnd.choice(["alice", "bob", "nobody-known"])
        events.append({"kind": "START", "uuid": sid, "at": start.isoformat(), "user": user, "text": f"<b>start {i}</b>"})
        events.append({"kind": "END", "uuid": str(uuid.UUID(int=rnd.getrandbits(128))), "session_uuid": sid,
                       "at": (start + dt.timedelta(minutes=30)).isoformat()})
        for k in range(2):
            events.append({"kind": "NOTE", "uuid": str(uuid.UUID(int=rnd.getrandbits(128))), "session_uuid": sid,
                           "at": (start + dt.timedelta(minutes=5 + k)).isoformat(), "text": f"note {i}.{k} ')--"})
    return events


def canonical(db: Database) -> dict:
    """Sessions and events without server-assigned ids and clocks."""
    with db.session() as sess:
        people = dict(sess.execute(select(Person.id, Person.username)).all())
        sessions = sess.scalars(select(InstrumentSession)).all()
        key = {s.id: s.start_event_uuid for s in sessions}
        out_sessions = sorted(
            (s.start_event_uuid, s.end_event_uuid, people.get(s.person_id), s.start, s.end, s.status, s.note, s.reservation, s.source)
            for s in sessions
        )
        events = sorted(
            (key.get(e.session_id), e.client_uuid or "", e.kind, e.at if e.kind != "STATUS" else None, e.actor, e.from_status,
             e.to_status, repr(sorted(e.payload.items())))
            for e in sess.scalars(select(SessionEvent))
        )
    return {"sessions": out_sessions, "events": events}


def setup_hub(db: Database) -> str:
    with db.session(write=True) as sess:
        add_instrument(sess, "titan")
        add_person(sess, "alice")
        add_person(sess, "bob")
        return issue_instrument_token(sess, "titan")


def post_all(client, events: list[dict], batch: int) -> list[dict]:
    results = []
    for i in range(0, len(events), batch):
        resp = client.post("/logger/events", json={"events": events[i:i + batch]})
        assert resp.status_code == 200, resp.text
        results += resp.json()["results"]
    return results


@pytest.fixture
def second_db(request: pytest.FixtureRequest, db_url: str, tmp_path: Path):
    """Another empty, migrated database on the same backend."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'second.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        name = f"t_{uuid.uuid4().hex[:12]}"
        server.psql(f"CREATE DATABASE {name};")
        base, _, query = server.get_uri().partition("?")
        url = f"{base.rsplit('/', 1)[0]}/{name}?{query}".replace("postgresql://", "postgresql+psycopg://", 1)
    database = Database(url)
    upgrade(database)
    yield database
    database.dispose()


def test_thousand_events_twice_and_shuffled_end_identical(settings, db, second_db) -> None:
    events = make_events()
    assert len(events) == 1000
    token = setup_hub(db)
    server = ApiServer(settings, db)
    try:
        with server.client(token) as client:
            first = post_all(client, events, 50)
            assert not any(r["duplicate"] for r in first)
            after_once = canonical(db)
            again = post_all(client, events, 50)  # the Logger's outbox resends everything
            assert all(r["duplicate"] for r in again)
            assert canonical(db) == after_once
    finally:
        server.stop()
    shuffled = events[:]
    random.Random(3).shuffle(shuffled)
    token2 = setup_hub(second_db)
    server2 = ApiServer(settings, second_db)
    try:
        with server2.client(token2) as client:
            post_all(client, shuffled, 25)
            post_all(client, list(reversed(shuffled)), 100)
    finally:
        server2.stop()
    assert canonical(second_db) == after_once
    statuses = {s[5] for s in after_once["sessions"]}
    assert statuses == {"TO_BE_BUILT"} and len(after_once["sessions"]) == 250


def test_end_before_start_and_conflicts(api_server, world, db) -> None:
    sid, end_id = str(uuid.uuid4()), str(uuid.uuid4())
    with api_server.client(world.tokens["instrument"]) as client:
        resp = client.post("/logger/end", json={"uuid": end_id, "session_uuid": sid, "at": "2026-03-01T12:00:00+01:00"})
        assert resp.status_code == 200 and resp.json()["status"] == "WAITING_FOR_END"
        resp = client.post("/logger/start", json={"uuid": sid, "at": "2026-03-01T10:00:00+01:00", "user": "alice"})
        assert resp.json()["status"] == "TO_BE_BUILT" and resp.json()["duplicate"] is False
        assert client.post("/logger/start", json={"uuid": sid, "at": "2026-03-01T10:00:00+01:00"}).json()["duplicate"] is True
        reused = client.post("/logger/note", json={"uuid": sid, "session_uuid": sid, "at": "2026-03-01T10:05:00Z", "text": "x"})
        assert reused.status_code == 409
        assert client.post("/logger/start", json={"uuid": "not-a-uuid", "at": "2026-03-01T10:00:00Z"}).status_code == 400
        assert client.post("/logger/start", json={"uuid": str(uuid.uuid4()), "at": "2026-03-01T10:00:00"}).status_code == 400
        today = client.get("/logger/reservations").json()
        assert today["instrument"] == "titan" and {"username": "alice", "display_name": None} in today["users"]
    with db.session() as sess:
        s = sess.scalar(select(InstrumentSession).where(InstrumentSession.start_event_uuid == sid))
        assert s.start == dt.datetime(2026, 3, 1, 9, tzinfo=UTC) and s.end == dt.datetime(2026, 3, 1, 11, tzinfo=UTC)
        kinds = [e.kind for e in sess.scalars(select(SessionEvent).where(SessionEvent.session_id == s.id).order_by(SessionEvent.id))]
        assert kinds == ["END", "START", "STATUS"]


def test_an_instrument_cannot_touch_another_instruments_session(api_server, world, db) -> None:
    with db.session(write=True) as sess:
        add_instrument(sess, "krios")
        other = issue_instrument_token(sess, "krios")
    sid = str(uuid.uuid4())
    with api_server.client(world.tokens["instrument"]) as titan, api_server.client(other) as krios:
        assert titan.post("/logger/start", json={"uuid": sid, "at": "2026-03-01T10:00:00Z"}).status_code == 200
        resp = krios.post("/logger/end", json={"uuid": str(uuid.uuid4()), "session_uuid": sid, "at": "2026-03-01T11:00:00Z"})
        assert resp.status_code == 404
    with db.session() as sess:
        s = sess.scalar(select(InstrumentSession).where(InstrumentSession.start_event_uuid == sid))
        assert s.end is None and s.instrument_id == sess.scalar(select(Instrument.id).where(Instrument.name == "titan"))


def test_nul_characters_in_logger_input_are_dropped_not_fatal(db) -> None:
    """PostgreSQL refuses NUL in text/JSONB; the event must still be stored (on both backends)."""
    import datetime as _dt
    import uuid as _uuid

    from sqlalchemy import select as _select

    from nexuslims_kernel.db.directory import add_instrument as _add_instrument
    from nexuslims_kernel.db.models import InstrumentSession as _Session
    from nexuslims_kernel.sessions.events import ingest_event, parse_event

    with db.session(write=True) as sess:
        inst = _add_instrument(sess, "NulScope")
        start = {"kind": "START", "uuid": str(_uuid.uuid4()), "at": _dt.datetime.now(_dt.UTC).isoformat(),
                 "text": "beam\x00 ok", "reservation": {"title": "Pt\x00/CeO2", "samples": ["a\x00b"]}}
        ingest_event(sess, inst.id, parse_event(start), actor="test")
    with db.session() as sess:
        s = sess.scalar(_select(_Session).where(_Session.instrument_id == inst.id))
        assert s.reservation["title"] == "Pt/CeO2" and s.reservation["samples"] == ["ab"]
        assert s.note == "beam ok"
