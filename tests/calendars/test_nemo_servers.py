"""Several NEMO servers at once, each in its own time zone, and one that is down."""

from __future__ import annotations

import datetime as dt

from calkit import add_nemo_instrument, nemo_facility, sessions

from nexuslims_kernel.calendars import harvest

UTC = dt.UTC


def _local(tz: str, days_ago: int, hour: int) -> str:
    """A wall-clock time in ``tz`` written WITHOUT an offset, as a NEMO admin would type it."""
    import zoneinfo

    day = dt.datetime.now(zoneinfo.ZoneInfo(tz)).date() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zoneinfo.ZoneInfo(tz)).isoformat()


def test_two_servers_in_their_own_time_zones(db, nemo_factory, monkeypatch) -> None:
    east, tokyo = nemo_factory("America/New_York"), nemo_factory("Asia/Tokyo")
    ids_e, ids_t = nemo_facility(east, "Titan"), nemo_facility(tokyo, "Krios")
    for server, ids, tz in ((east, ids_e, "America/New_York"), (tokyo, ids_t, "Asia/Tokyo")):
        server.seed({"op": "usage", "tool": ids["tool"], "user": ids["alice"], "project": ids["project"],
                     "start": _local(tz, 2, 10), "end": _local(tz, 2, 12)})
    add_nemo_instrument(db, monkeypatch, "TEM-east", east, ids_e["tool"], tz="America/New_York")
    add_nemo_instrument(db, monkeypatch, "TEM-tokyo", tokyo, None, tz="Asia/Tokyo", tool="Krios")  # the tool by name
    lines: list[str] = []
    report = harvest(db=db, echo=lines.append)
    assert report.errors == [] and len(lines) == 2  # a progress line per server
    got = {s.instrument.name: s for s in _with_instrument(db)}
    assert got["TEM-east"].start == dt.datetime.fromisoformat(_local("America/New_York", 2, 10)).astimezone(UTC)
    assert got["TEM-tokyo"].start == dt.datetime.fromisoformat(_local("Asia/Tokyo", 2, 10)).astimezone(UTC)
    # "alice" on both servers is one person (same username), known under both servers' ids
    assert got["TEM-east"].person_id == got["TEM-tokyo"].person_id
    assert len([k for k in got["TEM-east"].person.external_ids if k.startswith("nemo:")]) == 2


def _with_instrument(db):
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from nexuslims_kernel.db.models import InstrumentSession

    with db.session() as sess:
        return list(sess.scalars(select(InstrumentSession).options(
            selectinload(InstrumentSession.instrument), selectinload(InstrumentSession.person))))


def test_a_server_that_is_down_delays_its_harvest_and_loses_nothing(db, nemo_factory, monkeypatch) -> None:
    up, down = nemo_factory(), nemo_factory("Europe/Paris", start=False)
    ids_up, ids_down = nemo_facility(up), nemo_facility(down)
    for server, ids in ((up, ids_up), (down, ids_down)):
        server.seed({"op": "usage", "tool": ids["tool"], "user": ids["bob"], "project": ids["project"],
                     "start": _local("UTC", 1, 8), "end": _local("UTC", 1, 9)})
    add_nemo_instrument(db, monkeypatch, "TEM-up", up, ids_up["tool"])
    add_nemo_instrument(db, monkeypatch, "TEM-down", down, ids_down["tool"])
    lines: list[str] = []
    report = harvest(db=db, echo=lines.append)
    assert [s.ok for s in report.sources] == [True, False]
    assert lines[1].startswith(f"nemo {down.api_url}: usage_events: cannot reach the server (ConnectError")
    assert "nothing changed, the next harvest tries again" in lines[1]
    assert len(sessions(db, "nemo")) == 1
    down.start()
    report = harvest(db=db)
    assert [s.ok for s in report.sources] == [True, True]
    assert len(sessions(db, "nemo")) == 2


def test_one_instrument_at_a_time_does_not_skip_the_others(db, nemo_factory, monkeypatch) -> None:
    nemo = nemo_factory()
    ids = nemo_facility(nemo, "Titan")
    [krios] = nemo.seed({"op": "tool", "name": "Krios"})
    add_nemo_instrument(db, monkeypatch, "TEM-A", nemo, ids["tool"])
    add_nemo_instrument(db, monkeypatch, "TEM-B", nemo, krios)
    harvest(db=db)
    now = dt.datetime.now(UTC).replace(microsecond=0)
    use = {"user": ids["alice"], "project": ids["project"], "op": "usage"}
    nemo.seed({**use, "tool": krios, "start": (now - dt.timedelta(hours=2)).isoformat(), "end": (now - dt.timedelta(minutes=40)).isoformat()},
              {**use, "tool": ids["tool"], "start": (now - dt.timedelta(hours=1)).isoformat(), "end": (now - dt.timedelta(minutes=2)).isoformat()})
    assert harvest(db=db, instrument="TEM-A").sources[0].counts.created == 1
    report = harvest(db=db)  # a quick pass for both: TEM-B's event must not be behind a cursor TEM-A moved
    assert report.sources[0].counts.created == 1 and report.requests == 2  # alice and the project are known by now
    assert {s.instrument_id for s in sessions(db, "nemo")} == {1, 2}
