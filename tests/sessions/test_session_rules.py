"""The rules every session source obeys, checked where they live (sessions/), on both backends."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from nexuslims_kernel.db.directory import add_group, add_instrument, add_person, add_project, set_membership
from nexuslims_kernel.db.models import InstrumentSession, SessionEvent
from nexuslims_kernel.errors import IllegalTransitionError, InvalidInputError, NotAMemberError, SessionConflictError
from nexuslims_kernel.sessions import admin, review, rules
from nexuslims_kernel.sessions.events import ingest_event, parse_event
from nexuslims_kernel.sessions.machine import move

UTC = dt.UTC
H = dt.timedelta(hours=1)
DAY = (dt.datetime.now(UTC) - dt.timedelta(days=2)).replace(hour=7, minute=0, second=0, microsecond=0)


@pytest.fixture
def facility(db):
    """Titan with alice (in lab-a) and eve (in lab-b); project alloy belongs to lab-a."""
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "titan")
        for user, group in (("alice", "lab-a"), ("eve", "lab-b")):
            add_person(sess, user)
            add_group(sess, group)
            set_membership(sess, group, user, True)
        add_project(sess, "alloy", group="lab-a")
        return inst.id


def event(kind: str, at: dt.datetime, session_uuid: str | None = None, **fields) -> dict:
    ev = {"kind": kind, "uuid": session_uuid if kind == "START" and session_uuid else str(uuid.uuid4()), "at": at.isoformat()}
    if kind != "START":
        ev["session_uuid"] = session_uuid
    return ev | fields


def ingest(db, inst_id: int, ev: dict) -> dict:
    with db.session(write=True) as sess:
        return ingest_event(sess, inst_id, parse_event(ev), actor="test")


def logger_session(db, inst_id, start, end=None, user="alice", **fields) -> tuple[str, dict]:
    sid = str(uuid.uuid4())
    out = ingest(db, inst_id, event("START", start, sid, user=user, **fields))
    if end is not None:
        out = ingest(db, inst_id, event("END", end, sid))
    return sid, out


def row(db, session_id: int) -> InstrumentSession:
    with db.session() as sess:
        return sess.get(InstrumentSession, session_id)


def test_eves_session_inside_alices_is_refused_naming_alices(db, facility) -> None:
    _, alice = logger_session(db, facility, DAY, DAY + 4 * H)
    with pytest.raises(SessionConflictError, match=f"overlaps session {alice['session_id']} of alice"):
        logger_session(db, facility, DAY + 0.5 * H, user="eve")
    # ... nothing of it was stored, and touching sessions (end == next start) are fine.
    with db.session() as sess:
        assert len(sess.scalars(select(InstrumentSession)).all()) == 1
    _, after = logger_session(db, facility, DAY + 4 * H, DAY + 5 * H, user="eve")
    assert after["status"] == "TO_BE_BUILT"


def test_an_open_session_blocks_later_starts_and_an_end_cannot_swallow_another(db, facility) -> None:
    _, first = logger_session(db, facility, DAY)  # not ended: it runs on
    with pytest.raises(SessionConflictError, match=f"overlaps session {first['session_id']}"):
        logger_session(db, facility, DAY + 2 * H, user="eve")
    _, before = logger_session(db, facility, DAY - 3 * H, DAY - 2 * H, user="eve")
    sid = str(uuid.uuid4())
    ingest(db, facility, event("END", DAY - 1 * H, sid))  # the END first: nothing to check yet
    with pytest.raises(SessionConflictError, match=f"overlaps session {before['session_id']}"):
        ingest(db, facility, event("START", DAY - 5 * H, sid, user="eve"))


def test_event_times_far_from_the_server_clock_are_refused(db, facility, settings) -> None:
    now = dt.datetime.now(UTC)
    for at in (dt.datetime(1970, 1, 1, tzinfo=UTC), dt.datetime(2999, 1, 1, tzinfo=UTC), now + 2 * H):
        with pytest.raises(InvalidInputError, match="server's clock"):
            logger_session(db, facility, at)
    logger_session(db, facility, now - dt.timedelta(days=29))  # offline for days: still accepted
    narrow = dataclasses.replace(settings.sessions, clock_window_s=3600)
    with pytest.raises(InvalidInputError, match="sessions.clock_window_s"):
        rules.check_event_time(now - 2 * H, now, narrow)


def test_a_project_or_group_the_user_does_not_belong_to_is_refused(db, facility) -> None:
    with pytest.raises(NotAMemberError, match="eve does not belong to project 'alloy'"):
        logger_session(db, facility, DAY, user="eve", project="alloy")
    with pytest.raises(NotAMemberError, match="not a member of group 'lab-a'"):
        logger_session(db, facility, DAY, user="eve", group="lab-a")
    with pytest.raises(NotAMemberError):  # an unknown user belongs to nothing
        logger_session(db, facility, DAY, user="mallory", project="alloy")
    _, ok = logger_session(db, facility, DAY, DAY + H, user="alice", project="alloy", group="lab-a")
    assert row(db, ok["session_id"]).group_id is not None


def test_an_end_before_its_start_is_refused_in_either_order(db, facility) -> None:
    sid = str(uuid.uuid4())
    ingest(db, facility, event("START", DAY, sid, user="alice"))
    with pytest.raises(InvalidInputError, match="is not after its start"):
        ingest(db, facility, event("END", DAY - H, sid))
    other = str(uuid.uuid4())
    ingest(db, facility, event("END", DAY - 5 * H, other))  # the END first ...
    with pytest.raises(InvalidInputError, match="is not after its start"):
        ingest(db, facility, event("START", DAY - 4 * H, other, user="alice"))  # ... then a START after it


def test_a_long_session_waits_for_review_and_an_admin_approves_it(db, facility) -> None:
    _, out = logger_session(db, facility, DAY - 30 * H, DAY)
    sid = out["session_id"]
    assert out["status"] == "NEEDS_REVIEW" and "longer than sessions.max_length_s" in row(db, sid).status_reason
    with pytest.raises(IllegalTransitionError, match="needs review"):
        move(db, sid, "TO_BE_BUILT", actor="test")  # a plain rebuild does not get past the review
    with db.session(write=True) as sess:
        assert review.approve(sess, sid, actor="admin") == "TO_BE_BUILT"
    assert row(db, sid).length_approved is True


def test_a_never_ended_session_is_swept_to_review_and_ending_it_queues_it(db, facility, settings) -> None:
    _, out = logger_session(db, facility, DAY - 40 * H)
    sid = out["session_id"]
    assert review.sweep_unended(db, settings, actor="worker") == [sid]
    assert row(db, sid).status == "NEEDS_REVIEW" and "never ended" in row(db, sid).status_reason
    with db.session(write=True) as sess:
        assert admin.end_session(sess, sid, DAY - 38 * H, actor="cli") == "TO_BE_BUILT"


def test_building_needs_an_end(db, facility) -> None:
    _, out = logger_session(db, facility, DAY)
    with pytest.raises(IllegalTransitionError, match="no end: it cannot be built"):
        move(db, out["session_id"], "TO_BE_BUILT", actor="cli")


def test_a_second_different_end_is_a_correction_with_an_audit_event(db, facility) -> None:
    sid, out = logger_session(db, facility, DAY, DAY + H)
    move(db, out["session_id"], "BUILDING", actor="w")
    move(db, out["session_id"], "COMPLETED", actor="w")
    second = event("END", DAY + 2 * H, sid)
    result = ingest(db, facility, second)
    assert result["corrected"] is True and result["status"] == "TO_BE_BUILT"  # built with the old end: rebuilt
    assert row(db, out["session_id"]).end == DAY + 2 * H
    with db.session() as sess:
        audit = sess.scalars(select(SessionEvent).where(SessionEvent.kind == "CORRECTION")).one()
        assert audit.payload["from"] == (DAY + H).isoformat() and audit.payload["to"] == (DAY + 2 * H).isoformat()
        assert audit.payload["event"] == second["uuid"]
    assert ingest(db, facility, second)["duplicate"] is True  # replaying the correction is a no-op


def test_a_reused_uuid_with_other_content_names_the_field(db, facility) -> None:
    sid = str(uuid.uuid4())
    start = event("START", DAY, sid, user="alice", text="hello")
    ingest(db, facility, start)
    assert ingest(db, facility, start)["duplicate"] is True
    for change, field in (({"at": (DAY + H).isoformat()}, "at"), ({"user": "eve"}, "user"), ({"text": "bye"}, "text")):
        with pytest.raises(Exception, match=f"different '{field}'") as err:
            ingest(db, facility, start | change)
        assert err.value.http_status == 409


def test_cancelled_sessions_block_nothing(db, facility) -> None:
    _, out = logger_session(db, facility, DAY, DAY + 3 * H)
    with db.session(write=True) as sess:
        assert admin.cancel_session(sess, out["session_id"], actor="cli", reason="wrong user") == "CANCELLED"
    _, again = logger_session(db, facility, DAY + H, DAY + 2 * H, user="eve")
    assert again["status"] == "TO_BE_BUILT"
