"""Harvest from a real NEMO 8.1.5 on loopback: sessions, headers, consent, edits, deletions, time zones."""

from __future__ import annotations

import datetime as dt

from calkit import add_nemo_instrument, answers, nemo_facility, reservations, sessions

from nexuslims_kernel.calendars import harvest

UTC = dt.UTC


def _day(days: int, hour: int, minute: int = 0) -> dt.datetime:
    base = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=days)
    return base.replace(hour=hour, minute=minute)


def test_usage_with_reservation_becomes_a_session_with_its_header(db, nemo_factory, monkeypatch) -> None:
    nemo = nemo_factory("America/New_York")
    ids = nemo_facility(nemo)
    samples = {"sample_group": {"type": "group", "title": "Samples", "user_input": {
        "0": {"sample_name": "Ni-superalloy A", "sample_or_pid": "doi:10.1/abc", "sample_elements": ["Ni", "Cr"]},
        "1": {"sample_name": "Reference Si"}}}}
    question_data = {**answers(experiment_title="Grain boundary survey", experiment_purpose="Find carbides",
                               data_consent="Agree"), **samples}
    start, end = _day(2, 14), _day(2, 17)
    nemo.seed(
        {"op": "reservation", "tool": ids["tool"], "user": ids["alice"], "project": ids["project"],
         "start": start.isoformat(), "end": end.isoformat(), "question_data": question_data},
        {"op": "usage", "tool": ids["tool"], "user": ids["alice"], "project": ids["project"],
         "start": (start + dt.timedelta(minutes=5)).isoformat(), "end": (end - dt.timedelta(minutes=20)).isoformat()},
        {"op": "usage", "tool": ids["tool"], "user": ids["bob"], "project": ids["project"],  # still running: no session
         "start": _day(0, 0, 1).isoformat()},
    )
    add_nemo_instrument(db, monkeypatch, "TEM-1", nemo, ids["tool"], tz="America/New_York")
    lines: list[str] = []
    report = harvest(db=db, echo=lines.append)
    assert report.errors == []
    assert len(lines) == 1 and lines[0].startswith(f"nemo {nemo.api_url}: 1 new") and "Token" not in lines[0]
    [s] = sessions(db, "nemo")
    assert s.start == start + dt.timedelta(minutes=5) and s.end == end - dt.timedelta(minutes=20)  # zone-correct
    assert s.status == "TO_BE_BUILT" and s.person.username == "alice" and s.person.email == "alice@example.org"
    assert s.project.name == "Grain boundaries"
    assert s.reservation["title"] == "Grain boundary survey" and s.reservation["motivation"] == "Find carbides"
    assert s.reservation["samples"][0] == {"id": "doi:10.1/abc", "name": "Ni-superalloy A", "elements": ["Ni", "Cr"]}
    assert [r.details["title"] for r in reservations(db)] == ["Grain boundary survey"]
