"""Logged sessions get the header of the reservation that overlaps them most."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

from calkit import sessions

from nexuslims_kernel.calendars import harvest, harvest_loop
from nexuslims_kernel.db import get_database
from nexuslims_kernel.db.directory import add_instrument, add_person, get_instrument
from nexuslims_kernel.sessions.events import ingest_event, parse_event

UTC = dt.UTC


def _ics(*events: tuple[str, dt.datetime, dt.datetime, str]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Nextcloud calendar//EN"]
    for uid, start, end, desc in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z", f"SUMMARY:Booking {uid}", f"DESCRIPTION:{desc}",
                  f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{end:%Y%m%dT%H%M%SZ}", "ORGANIZER:mailto:alice@example.org", "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n"


def _instrument_with_feed(db, tmp_path, hours_ago: int, *events: tuple[str, float, float, str], sessions: bool = False,
                          alice: bool = True) -> dt.datetime:
    """TEM-1 with an .ics feed of ``events`` = (uid, start hour, end hour, description) from ``t``; returns ``t``."""
    t = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours_ago)
    path = tmp_path / "tem.ics"
    path.write_text(_ics(*((uid, t + dt.timedelta(hours=a), t + dt.timedelta(hours=b), d) for uid, a, b, d in events)),
                    newline="")
    with db.session(write=True) as sess:
        add_instrument(sess, "TEM-1", harvester="ical", harvester_settings={"path": str(path), "sessions": sessions})
        if alice:
            add_person(sess, "alice", email="alice@example.org")
    return t


def _logged(db, start: dt.datetime, end: dt.datetime, **extra) -> None:
    sid = str(uuid.uuid4())
    with db.session(write=True) as sess:
        inst_id = get_instrument(sess, "TEM-1").id
        ingest_event(sess, inst_id, parse_event({"uuid": sid, "kind": "START", "at": start.isoformat(), "user": "alice", **extra}), "test")
        ingest_event(sess, inst_id, parse_event({"uuid": str(uuid.uuid4()), "kind": "END", "session_uuid": sid, "at": end.isoformat()}), "test")


def test_logged_sessions_take_the_reservation_overlapping_most(db, tmp_path) -> None:
    t = _instrument_with_feed(db, tmp_path, 8, ("short", 0, 1, "Consent: yes"), ("long", 1, 4, "Tilt series"),
                              ("private", 5, 6, "Consent: no"))
    _logged(db, t + dt.timedelta(minutes=30), t + dt.timedelta(hours=3))  # 30 min of "short", 2 h of "long"
    _logged(db, t + dt.timedelta(hours=5, minutes=10), t + dt.timedelta(hours=5, minutes=50))
    _logged(db, t + dt.timedelta(hours=3, minutes=5), t + dt.timedelta(hours=3, minutes=50), reservation={"title": "My own title"})
    lines: list[str] = []
    harvest(db=db, echo=lines.append)
    assert "3 logged sessions matched" in lines[0]
    first, own, private = sessions(db, "logger")  # sessions() orders by start
    assert first.reservation["title"] == "Booking long" and first.reservation["motivation"] == "Tilt series"
    assert own.reservation["title"] == "My own title" and own.reservation["motivation"] == "Tilt series"
    assert private.status == "NO_CONSENT" and first.status == "TO_BE_BUILT"
    assert sessions(db, "ical") == []  # sessions: false -> the feed only fills headers
    harvest(db=db, full=True, echo=lines.append)
    assert "matched" not in lines[-1]  # nothing changed: nothing re-filled
    _logged(db, t, t + dt.timedelta(minutes=20))  # logged after the feed was read; the feed is unchanged
    harvest(db=db, echo=lines.append)
    assert "1 logged sessions matched" in lines[-1]
    assert sessions(db, "logger")[0].reservation["title"] == "Booking short"


def test_the_matched_reservation_fills_the_record_header(db, tmp_path) -> None:
    from sqlalchemy import select

    from nexuslims_kernel.db.models import InstrumentSession
    from nexuslims_kernel.records.header import build_header

    t = _instrument_with_feed(db, tmp_path, 4, ("b1", 0, 2, "Samples: Au foil\\nStrain mapping"))
    _logged(db, t + dt.timedelta(minutes=10), t + dt.timedelta(hours=1))
    harvest(db=db)
    with db.session() as sess:
        s = sess.scalar(select(InstrumentSession))
        header = build_header(s, s.instrument, s.person, s.project)
    assert header["title"] == "Booking b1" and header["motivation"] == "Strain mapping"
    assert [x["name"] for x in header["samples"]] == ["Au foil"]


def test_harvest_loop_runs_until_stopped(db, tmp_path, settings) -> None:
    db = get_database(settings.db_url)  # the loop opens the settings' database itself
    _instrument_with_feed(db, tmp_path, 4, ("b1", 0, 2, ""), sessions=True, alice=False)
    stop, lines = threading.Event(), []
    thread = threading.Thread(target=harvest_loop, args=(settings, stop), kwargs={"interval_s": 0.05, "echo": lines.append})
    thread.start()
    try:
        for _ in range(200):
            if len(lines) >= 3:
                break
            threading.Event().wait(0.05)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive() and len(lines) >= 3
    assert lines[0].startswith("ical TEM-1") and "1 new" in lines[0] and "0 new" in lines[-1]
    assert len(sessions(db, "ical")) == 1


def test_an_inferred_session_takes_the_booking_title(db, tmp_path) -> None:
    from nexuslims_kernel.builder.infer import Proposal, create

    t = _instrument_with_feed(db, tmp_path, 6, ("b9", 0, 2, "Cryo-ET"), alice=False)
    create(db, [Proposal("TEM-1", t + dt.timedelta(minutes=15), t + dt.timedelta(minutes=50), 12, "TEM-1@x")])
    harvest(db=db)
    [s] = sessions(db, "inferred")
    assert s.reservation["title"] == "Booking b9" and s.reservation["motivation"] == "Cryo-ET"
