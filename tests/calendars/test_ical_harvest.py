"""iCalendar feeds: real .ics text (VTIMEZONE, all-day, RRULE with EXDATE and moved/cancelled instances),
read from disk and served over HTTP on loopback."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import threading
import zoneinfo

import pytest
from calkit import reservations, sessions

from nexuslims_kernel.calendars import harvest
from nexuslims_kernel.db.directory import add_instrument, add_person

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = dt.UTC

VTIMEZONE = """BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16011028T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010325T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE"""


def _d(day: dt.date, hour: int = 0, minute: int = 0) -> str:
    return f"{day:%Y%m%d}T{hour:02d}{minute:02d}00"


def feed(today: dt.date, *, drop_single: bool = False, retitle: str | None = None, single_end: str = "1130",
         single_status: str = "CONFIRMED", drop_allday: bool = False) -> str:
    """An Outlook-style export: Windows zone names with their VTIMEZONE, CRLF line ends."""
    week0 = today - dt.timedelta(days=21)  # four weekly instances: -21, -14, -7, 0 days
    d1, d2 = today - dt.timedelta(days=10), today - dt.timedelta(days=9)
    events = []
    if not drop_single:
        events.append(f"""BEGIN:VEVENT
UID:single-1@example.org
DTSTAMP:20260101T000000Z
STATUS:{single_status}
SUMMARY:{retitle or 'EELS of Ni grains'}
DESCRIPTION:Map Cr segregation\\nSamples: Ni-A, Ni-B\\nConsent: yes
ORGANIZER;CN=Alice Ng:mailto:alice@example.org
DTSTART;TZID=W. Europe Standard Time:{_d(d1, 9)}
DTEND;TZID=W. Europe Standard Time:{_d(d1, int(single_end[:2]), int(single_end[2:]))}
END:VEVENT""")
    events += [] if drop_allday else [f"""BEGIN:VEVENT
UID:allday-1@example.org
DTSTAMP:20260101T000000Z
SUMMARY:Bake-out
ORGANIZER:mailto:Bob.Roe@Example.org
DTSTART;VALUE=DATE:{d2:%Y%m%d}
DTEND;VALUE=DATE:{d2 + dt.timedelta(days=1):%Y%m%d}
END:VEVENT"""]
    events += [f"""BEGIN:VEVENT
UID:weekly-1@example.org
DTSTAMP:20260101T000000Z
SUMMARY:Weekly alignment
DESCRIPTION:Consent: no
X-NXHUB-USERNAME:carol
DTSTART;TZID=W. Europe Standard Time:{_d(week0, 14)}
DTEND;TZID=W. Europe Standard Time:{_d(week0, 15)}
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE;TZID=W. Europe Standard Time:{_d(week0 + dt.timedelta(days=7), 14)}
END:VEVENT""", f"""BEGIN:VEVENT
UID:weekly-1@example.org
DTSTAMP:20260101T000000Z
RECURRENCE-ID;TZID=W. Europe Standard Time:{_d(week0 + dt.timedelta(days=14), 14)}
SUMMARY:Weekly alignment (moved)
DESCRIPTION:Consent: yes
X-NXHUB-USERNAME:carol
DTSTART;TZID=W. Europe Standard Time:{_d(week0 + dt.timedelta(days=15), 8)}
DTEND;TZID=W. Europe Standard Time:{_d(week0 + dt.timedelta(days=15), 9)}
END:VEVENT""", f"""BEGIN:VEVENT
UID:future-1@example.org
DTSTAMP:20260101T000000Z
SUMMARY:Tomorrow's booking
DTSTART:{_d(today + dt.timedelta(days=2), 8)}Z
DTEND:{_d(today + dt.timedelta(days=2), 10)}Z
END:VEVENT"""]
    body = "\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN",
                      VTIMEZONE, *events, "END:VCALENDAR"])
    return body.replace("\n", "\r\n") + "\r\n"


@pytest.fixture
def http_dir(tmp_path):
    """A plain HTTP server (Last-Modified / If-Modified-Since) for ``tmp_path/www`` on a free loopback port."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _setup(db, settings: dict) -> None:
    with db.session(write=True) as sess:
        add_instrument(sess, "SEM-1", timezone="Europe/Berlin", harvester="ical", harvester_settings=settings)
        add_person(sess, "alice", email="alice@example.org")
        add_person(sess, "bob", email="bob.roe@example.org")
        add_person(sess, "carol")


def _by_title(db) -> dict:
    return {s.reservation.get("title"): s for s in sessions(db, "ical")}


@pytest.mark.parametrize("where", ["file", "http"])
def test_ical_feed_gives_sessions_with_zones_all_day_and_recurrences(db, tmp_path, http_dir, where) -> None:
    today = dt.datetime.now(BERLIN).date()
    www, base = http_dir
    (www / "sem.ics").write_text(feed(today), newline="")
    _setup(db, {"path": str(www / "sem.ics")} if where == "file" else {"url": f"{base}/sem.ics"})
    lines: list[str] = []
    report = harvest(db=db, echo=lines.append)
    assert report.errors == [], report.errors
    got = _by_title(db)
    single = got["EELS of Ni grains"]
    d1 = today - dt.timedelta(days=10)
    assert single.start == dt.datetime.combine(d1, dt.time(9), BERLIN).astimezone(UTC)
    assert single.end == dt.datetime.combine(d1, dt.time(11, 30), BERLIN).astimezone(UTC)
    assert single.person.username == "alice" and single.reservation["motivation"] == "Map Cr segregation"
    assert single.reservation["samples"] == [{"name": "Ni-A"}, {"name": "Ni-B"}]
    allday = got["Bake-out"]  # a whole day in the instrument's zone; matched by email, case-insensitively
    d2 = today - dt.timedelta(days=9)
    assert (allday.start, allday.end) == (dt.datetime.combine(d2, dt.time(0), BERLIN).astimezone(UTC),
                                          dt.datetime.combine(d2 + dt.timedelta(days=1), dt.time(0), BERLIN).astimezone(UTC))
    assert allday.person.username == "bob"
    weekly = sorted((s for s in sessions(db, "ical") if s.reservation["title"].startswith("Weekly")), key=lambda s: s.start)
    week0 = today - dt.timedelta(days=21)
    # four instances: the second excluded (EXDATE), the third moved a day later at 8:00; the fourth is today 14-15h
    expected = [dt.datetime.combine(week0, dt.time(14), BERLIN), dt.datetime.combine(week0 + dt.timedelta(days=15), dt.time(8), BERLIN)]
    if dt.datetime.combine(today, dt.time(15), BERLIN) <= dt.datetime.now(UTC):
        expected.append(dt.datetime.combine(today, dt.time(14), BERLIN))
    assert [s.start for s in weekly] == [e.astimezone(UTC) for e in expected]
    assert [s.status for s in weekly][:2] == ["NO_CONSENT", "TO_BE_BUILT"]  # the moved one says yes
    assert all(s.person.username == "carol" for s in weekly)
    assert "Tomorrow's booking" not in got and "Tomorrow's booking" in {r.details.get("title") for r in reservations(db)}
    n = len(sessions(db, "ical"))

    again = harvest(db=db)
    assert again.sources[0].counts is not None and len(sessions(db, "ical")) == n
    if where == "http":
        assert again.requests == 1  # an unchanged feed: one conditional GET answered 304


def test_an_event_removed_from_the_feed_cancels_its_session_and_an_edit_updates_it(db, tmp_path) -> None:
    today = dt.datetime.now(BERLIN).date()
    path = tmp_path / "sem.ics"
    path.write_text(feed(today), newline="")
    _setup(db, {"path": str(path)})
    harvest(db=db)
    path.write_text(feed(today, retitle="EELS of Ni grains, take 2", single_end="1245"), newline="")
    harvest(db=db)
    edited = _by_title(db)["EELS of Ni grains, take 2"]
    assert edited.status == "TO_BE_BUILT"
    assert edited.end == dt.datetime.combine(today - dt.timedelta(days=10), dt.time(12, 45), BERLIN).astimezone(UTC)
    assert len([s for s in sessions(db, "ical") if s.reservation["title"].startswith("EELS")]) == 1
    assert [s.status for s in sessions(db, "ical") if s.reservation["title"].startswith("EELS")] == ["TO_BE_BUILT"]  # updated, not replaced
    path.write_text(feed(today, retitle="EELS of Ni grains, take 2", single_end="1245", single_status="CANCELLED"), newline="")
    lines: list[str] = []
    harvest(db=db, echo=lines.append)
    assert "1 cancelled" in lines[0]  # STATUS:CANCELLED in the feed
    assert _by_title(db)["EELS of Ni grains, take 2"].status == "CANCELLED"
    path.write_text(feed(today, drop_single=True), newline="")
    harvest(db=db, echo=lines.append)
    assert "0 cancelled" in lines[-1]  # gone from the feed now: already cancelled, nothing more to do
    path.write_text(feed(today, drop_single=True, drop_allday=True), newline="")
    harvest(db=db, echo=lines.append)
    assert "1 cancelled" in lines[-1]  # deleted from the feed
    assert _by_title(db)["Bake-out"].status == "CANCELLED"
    assert all(not r.details.get("title", "").startswith("EELS") or r.cancelled for r in reservations(db))


def test_a_broken_feed_is_one_clear_error_and_changes_nothing(db, tmp_path) -> None:
    path = tmp_path / "sem.ics"
    path.write_text("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:notatime\r\n", newline="")
    _setup(db, {"path": str(path)})
    report = harvest(db=db)
    [error] = report.errors
    assert error.startswith(f"ical SEM-1 ({path}): ") and "nothing changed" in error
    assert sessions(db, "ical") == []
