"""`nxhub sessions` obeys the session rules and can undo mistakes: add, rebuild, end, edit, cancel, approve, show."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from nexuslims_kernel.db import Database
from nexuslims_kernel.sessions.events import ingest_event, parse_event


@pytest.fixture
def titan(nxhub):
    assert nxhub("init")[0] == 0
    assert nxhub("instruments", "add", "Titan")[0] == 0
    for user in ("alice", "eve"):
        assert nxhub("users", "add", user)[0] == 0
    return nxhub


def add(run, start: str, end: str | None = None, user: str = "alice", *extra: str) -> tuple[int, dict | str]:
    args = ["--json", "sessions", "add", "Titan", "--start", start, "--user", user, *extra]
    if end:
        args += ["--end", end]
    code, out, err = run(*args)
    return code, json.loads(out) if code == 0 else err


def test_an_overlapping_session_is_refused_with_exit_8_and_one_line(titan) -> None:
    code, first = add(titan, "2026-11-20T09:00Z", "2026-11-20T12:00Z")
    assert code == 0 and first["status"] == "TO_BE_BUILT"
    code, err = add(titan, "2026-11-20T11:00Z", "2026-11-20T13:00Z", "eve")
    assert code == 8
    assert err.count("\n") == 1 and err.startswith("nxhub: error: overlaps session") and f"session {first['id']} of alice" in err
    code, _ = add(titan, "2026-11-20T12:00Z", "2026-11-20T13:00Z", "eve")
    assert code == 0  # back to back is fine


def test_rebuilding_an_open_session_is_an_illegal_transition_then_end_queues_it(titan) -> None:
    code, open_ = add(titan, "2026-11-21T09:00Z")
    assert code == 0 and open_["status"] == "WAITING_FOR_END"
    code, _, err = titan("sessions", "rebuild", str(open_["id"]))
    assert code == 6 and "no end" in err
    code, out, _ = titan("--json", "sessions", "end", str(open_["id"]), "--at", "2026-11-21T10:30Z")
    assert code == 0 and json.loads(out)["status"] == "TO_BE_BUILT" and json.loads(out)["end"].startswith("2026-11-21T10:30")
    code, _, err = titan("sessions", "end", str(open_["id"]))
    assert code == 6 and "already ended" in err


def test_edit_moves_a_session_and_cancel_frees_its_slot(titan) -> None:
    _, first = add(titan, "2026-11-22T09:00Z", "2026-11-22T10:00Z")
    _, second = add(titan, "2026-11-22T11:00Z", "2026-11-22T12:00Z", "eve")
    code, _, err = titan("sessions", "edit", str(first["id"]), "--end", "2026-11-22T11:30Z")
    assert code == 8 and f"overlaps session {second['id']}" in err
    code, out, _ = titan("--json", "sessions", "edit", str(first["id"]), "--end", "2026-11-22T10:45Z", "--title", "Fixed")
    assert code == 0 and json.loads(out)["end"].startswith("2026-11-22T10:45")
    assert titan("sessions", "cancel", str(second["id"]))[0] == 0
    code, out, _ = titan("--json", "sessions", "edit", str(first["id"]), "--end", "2026-11-22T11:30Z")
    assert code == 0
    code, out, _ = titan("--json", "sessions", "show", str(first["id"]))
    events = json.loads(out)["events"]
    assert [e["kind"] for e in events if e["kind"] == "EDIT"] == ["EDIT", "EDIT"]
    assert titan("sessions", "edit", str(second["id"]), "--note", "x")[0] == 6  # cancelled: nothing to edit


def test_a_long_session_waits_for_review_until_approved(titan) -> None:
    code, long_ = add(titan, "2026-11-01T09:00Z", "2026-11-03T09:00Z")
    assert code == 0 and long_["status"] == "NEEDS_REVIEW"
    code, _, err = titan("sessions", "rebuild", str(long_["id"]))
    assert code == 6 and "needs review" in err
    code, out, _ = titan("--json", "sessions", "approve", str(long_["id"]))
    assert code == 0 and json.loads(out)["status"] == "TO_BE_BUILT"


def test_a_second_end_from_the_logger_shows_as_a_conflict(titan, db_url) -> None:
    db = Database(db_url)
    sid = str(uuid.uuid4())
    t0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=5)
    events = [{"kind": "START", "uuid": sid, "at": t0.isoformat(), "user": "alice"},
              {"kind": "END", "uuid": str(uuid.uuid4()), "session_uuid": sid, "at": (t0 + dt.timedelta(hours=1)).isoformat()},
              {"kind": "END", "uuid": str(uuid.uuid4()), "session_uuid": sid, "at": (t0 + dt.timedelta(hours=2)).isoformat()}]
    try:
        with db.session(write=True) as sess:
            for ev in events:
                session_id = ingest_event(sess, 1, parse_event(ev), actor="logger:Titan")["session_id"]
    finally:
        db.dispose()
    code, out, _ = titan("--json", "sessions", "show", str(session_id))
    shown = json.loads(out)
    assert code == 0 and shown["end"].startswith((t0 + dt.timedelta(hours=2)).isoformat()[:19])
    assert [(c["uuid"], c["applied"]) for c in shown["conflicts"]] == [(events[1]["uuid"], False), (events[2]["uuid"], True)]
    assert any(e["kind"] == "CORRECTION" for e in shown["events"])
