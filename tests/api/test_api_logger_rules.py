"""The Logger endpoints obey the session rules: what an instrument token can and cannot do."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select

from nexuslims_kernel.db.directory import add_group, add_person, add_project, set_membership
from nexuslims_kernel.db.models import InstrumentSession, SessionEvent

UTC = dt.UTC
H = dt.timedelta(hours=1)
DAY = (dt.datetime.now(UTC) - dt.timedelta(days=3)).replace(hour=7, minute=30, second=0, microsecond=0)


def start(at: dt.datetime, user: str = "alice", **fields) -> dict:
    return {"uuid": str(uuid.uuid4()), "at": at.isoformat(), "user": user, **fields}


def end(sid: str, at: dt.datetime) -> dict:
    return {"uuid": str(uuid.uuid4()), "session_uuid": sid, "at": at.isoformat()}


def test_eve_cannot_log_a_session_over_alices(api_server, world, db) -> None:
    with db.session(write=True) as sess:
        add_person(sess, "eve")
    with api_server.client(world.tokens["instrument"]) as client:
        first = start(DAY - 0.5 * H)
        alice = client.post("/logger/start", json=first).json()["session_id"]
        assert client.post("/logger/end", json=end(first["uuid"], DAY + 3 * H)).status_code == 200
        resp = client.post("/logger/start", json=start(DAY, user="eve"))
        assert resp.status_code == 409
        assert f"overlaps session {alice} of alice" in resp.json()["error"]["message"]
        for at in ("1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"):
            resp = client.post("/logger/start", json={"uuid": str(uuid.uuid4()), "at": at, "user": "eve"})
            assert resp.status_code == 400 and "server's clock" in resp.json()["error"]["message"]
    with db.session() as sess:
        assert sess.scalar(select(InstrumentSession.id).where(InstrumentSession.person.has(username="eve"))) is None


def test_a_project_of_another_lab_is_refused(api_server, world, db) -> None:
    with db.session(write=True) as sess:
        add_group(sess, "other-lab")
        add_project(sess, "secret", group="other-lab")
    with api_server.client(world.tokens["instrument"]) as client:
        resp = client.post("/logger/start", json=start(DAY, project="secret"))
        assert resp.status_code == 403 and "does not belong to project 'secret'" in resp.json()["error"]["message"]
        ok = client.post("/logger/start", json=start(DAY, project=None, group="lab"))
        assert ok.status_code == 200


def test_a_batch_is_answered_per_event(api_server, world, db) -> None:
    first = start(DAY)
    bad_end = end(first["uuid"], DAY - H)  # before its start
    note = {"uuid": str(uuid.uuid4()), "kind": "NOTE", "session_uuid": first["uuid"], "at": DAY.isoformat(), "text": "ok"}
    batch = [{"kind": "START", **first}, {"kind": "END", **bad_end}, {"kind": "NOPE", "uuid": "x"}, note]
    with api_server.client(world.tokens["instrument"]) as client:
        resp = client.post("/logger/events", json={"events": batch})
        assert resp.status_code == 200
        body = resp.json()
        assert (body["stored"], body["refused"]) == (2, 2)
        results = body["results"]
        assert results[0]["uuid"] == first["uuid"] and "error" not in results[0]
        assert results[1]["uuid"] == bad_end["uuid"] and results[1]["error"]["status"] == 400
        assert "not after its start" in results[1]["error"]["message"]
        assert results[2]["uuid"] == "x" and ("'kind'" in results[2]["error"]["message"] or "'at'" in results[2]["error"]["message"])
        assert results[3]["uuid"] == note["uuid"] and results[3]["duplicate"] is False
    with db.session() as sess:
        kinds = sorted(sess.scalars(select(SessionEvent.kind).where(SessionEvent.client_uuid.is_not(None))))
        assert kinds == ["NOTE", "START"]


def test_a_reused_uuid_with_a_different_time_is_a_409_naming_it(api_server, world) -> None:
    first = start(DAY)
    with api_server.client(world.tokens["instrument"]) as client:
        assert client.post("/logger/start", json=first).status_code == 200
        assert client.post("/logger/start", json=first).json()["duplicate"] is True
        resp = client.post("/logger/start", json=first | {"at": (DAY + H).isoformat()})
        assert resp.status_code == 409 and "different 'at'" in resp.json()["error"]["message"]


def test_reservations_list_only_people_allowed_on_the_instrument(api_server, world, db) -> None:
    with db.session(write=True) as sess:
        add_person(sess, "stranger")  # never used titan
        add_group(sess, "fept")
        set_membership(sess, "fept", "alice", True)
        add_project(sess, "fept-np", group="fept")
        add_project(sess, "hidden", group="lab")  # alice and bob's lab, but bob never used titan
    now = dt.datetime.now(UTC)
    with api_server.client(world.tokens["instrument"]) as client:
        assert client.post("/logger/start", json=start(now - H, project="fept-np")).status_code == 200
        body = client.get("/logger/reservations").json()
    names = [u["username"] for u in body["users"]]
    assert names == ["alice"]  # not bob, carol, root or stranger
    assert body["users"][0]["projects"] == ["fept-np", "hidden"]
    assert [r["user"] for r in body["reservations"]] == ["alice"]
    assert body["projects"] == ["fept-np", "hidden"]
