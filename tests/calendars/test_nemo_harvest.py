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


def _usage(ids: dict, user: str, start: dt.datetime, end: dt.datetime | None, **extra) -> dict:
    return {"op": "usage", "tool": ids["tool"], "user": ids[user], "project": ids["project"],
            "start": start.isoformat(), **({"end": end.isoformat()} if end else {}), **extra}


def test_consent_no_in_usage_or_reservation_gives_no_consent(db, nemo_factory, monkeypatch) -> None:
    nemo = nemo_factory()
    ids = nemo_facility(nemo)
    [declined] = nemo.seed(_usage(ids, "alice", _day(3, 9), _day(3, 10), run_data=answers(data_consent="Disagree")))
    nemo.seed(
        _usage(ids, "bob", _day(3, 11), _day(3, 12), run_data=answers(data_consent="Agree")),
        {"op": "reservation", "tool": ids["tool"], "user": ids["bob"], "project": ids["project"],
         "start": _day(3, 13).isoformat(), "end": _day(3, 15).isoformat(), "question_data": answers(data_consent="No")},
        _usage(ids, "bob", _day(3, 13, 10), _day(3, 14)),  # no answer of its own: the reservation's "No" holds
    )
    add_nemo_instrument(db, monkeypatch, "TEM-1", nemo, ids["tool"])
    harvest(db=db)
    assert [(s.person.username, s.status) for s in sessions(db, "nemo")] == [
        ("alice", "NO_CONSENT"), ("bob", "TO_BE_BUILT"), ("bob", "NO_CONSENT")]
    nemo.seed({"op": "update", "model": "usage", "id": declined, "fields": {"run_data": answers(data_consent="I agree")}})
    harvest(db=db, full=True)
    assert sessions(db, "nemo")[0].status == "TO_BE_BUILT"  # consent given later: queued to be built


def test_edits_update_and_requeue_deletions_cancel(db, nemo_factory, monkeypatch) -> None:
    from nexuslims_kernel.sessions.machine import move

    nemo = nemo_factory()
    ids = nemo_facility(nemo)
    kept, edited, gone = nemo.seed(
        _usage(ids, "alice", _day(4, 9), _day(4, 10)),
        _usage(ids, "alice", _day(4, 11), _day(4, 12), run_data=answers(experiment_title="First title")),
        _usage(ids, "bob", _day(4, 13), _day(4, 14)),
    )
    add_nemo_instrument(db, monkeypatch, "TEM-1", nemo, ids["tool"])
    harvest(db=db)
    by_ext = {s.external_id.rsplit("/", 1)[1]: s for s in sessions(db, "nemo")}
    done = by_ext[str(edited)].id
    for status in ("BUILDING", "COMPLETED"):  # its record was built
        move(db, done, status, actor="test")

    nemo.seed({"op": "update", "model": "usage", "id": edited, "fields": {
                  "end": _day(4, 12, 30).isoformat(), "run_data": answers(experiment_title="Better title")}},
              {"op": "delete", "model": "usage", "id": gone})
    lines: list[str] = []
    harvest(db=db, full=True, echo=lines.append)
    assert "1 updated, 1 cancelled" in lines[0]
    after = {s.external_id.rsplit("/", 1)[1]: s for s in sessions(db, "nemo")}
    assert after[str(edited)].end == _day(4, 12, 30) and after[str(edited)].reservation["title"] == "Better title"
    assert after[str(edited)].status == "TO_BE_BUILT"  # rebuild queued
    assert after[str(gone)].status == "CANCELLED" and after[str(kept)].status == "TO_BE_BUILT"
    harvest(db=db, full=True, echo=lines.append)
    assert "0 new, 0 updated, 0 cancelled" in lines[-1]


def test_quick_pass_costs_one_request_per_endpoint_and_sees_new_ends(db, nemo_factory, monkeypatch) -> None:
    nemo = nemo_factory("Europe/Berlin")
    ids = nemo_facility(nemo)
    nemo.seed(_usage(ids, "alice", _day(1, 9), _day(1, 10)))
    add_nemo_instrument(db, monkeypatch, "TEM-1", nemo, ids["tool"])
    assert len(harvest(db=db).sources) == 1
    quiet = harvest(db=db)
    assert quiet.requests == 2 and quiet.sources[0].counts.unchanged == 1  # usage_events + reservations
    now = dt.datetime.now(UTC).replace(microsecond=0)
    [running] = nemo.seed(_usage(ids, "bob", now - dt.timedelta(hours=1), None))
    harvest(db=db)
    assert len(sessions(db, "nemo")) == 1  # still running: not a session yet
    nemo.seed({"op": "update", "model": "usage", "id": running, "fields": {"end": now.isoformat()}})
    report = harvest(db=db)
    assert report.sources[0].counts.created == 1 and report.requests == 3  # + one look-up of the new user
    assert [s.person.username for s in sessions(db, "nemo")] == ["alice", "bob"]


def test_bad_answers_are_reported_by_server_and_event(db, nemo_factory, monkeypatch) -> None:
    nemo = nemo_factory()
    ids = nemo_facility(nemo)
    [bad] = nemo.seed(_usage(ids, "alice", _day(1, 9), _day(1, 10), run_data="{not json"))
    [empty] = nemo.seed(_usage(ids, "alice", _day(1, 10, 30), _day(1, 10, 30)))  # NEMO's ORM lets end == start in
    nemo.seed(_usage(ids, "bob", _day(1, 11), _day(1, 12)), _usage(ids, "bob", _day(1, 8), _day(1, 8, 30)))
    add_nemo_instrument(db, monkeypatch, "TEM-1", nemo, ids["tool"])
    report = harvest(db=db)
    assert report.errors == [
        f"nemo {nemo.api_url}: usage event {bad}: answers are not valid JSON (Expecting property name "
        "enclosed in double quotes at character 1)",
        f"nemo {nemo.api_url}: usage event {empty} ({_day(1, 10, 30).isoformat()} to {_day(1, 10, 30).isoformat()}): "
        f"its end {_day(1, 10, 30).isoformat()} is not after its start {_day(1, 10, 30).isoformat()}"]
    assert [s.person.username for s in sessions(db, "nemo")] == ["bob", "bob"]  # the good ones of the same batch
