"""``nxhub import nexuslims``: a NexusLIMS 2.8 database made by NexusLIMS's own code, and a 1.x-layout one
made from its published schema, come over row for row; a second import changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys

import nexuslims_venv
from nexuslims_1x import db_1x_from_published_schema
from sqlalchemy import func, select

from nexuslims_kernel.db import Database, upgrade
from nexuslims_kernel.db.models import Instrument, InstrumentSession, SessionEvent

UTC = dt.UTC
TITAN, QUANTA = "FEI-Titan-TEM-635816", "FEI-Quanta-SEM-91"
NEMO = "https://nemo.example.org/api"


def _nxhub(env, *args):
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env, capture_output=True,
                          timeout=300)


def _import(env, *args):
    proc = _nxhub(env, "--json", "import", "nexuslims", *args)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    return json.loads(proc.stdout)


def _log(ident, pid, start, end, status, user):
    rows = [dict(session_identifier=ident, instrument=pid, timestamp=start, event_type="START", record_status=status, user=user)]
    if end:
        rows.append(dict(session_identifier=ident, instrument=pid, timestamp=end, event_type="END", record_status=status, user=user))
    return rows


INSTRUMENTS_28 = [
    dict(instrument_pid=TITAN, api_url=f"{NEMO}/tools/?id=3", calendar_url="https://nemo.example.org/calendar/3",
         location="Bldg 217 / F113", display_name="FEI Titan TEM", property_tag="635816", filestore_path="./Titan",
         harvester="nemo", timezone_str="America/Denver"),
    dict(instrument_pid=QUANTA, api_url="https://sharepoint.example.org/quanta", calendar_url="https://sp.example.org/q",
         location="Bldg 223 / B115", display_name="FEI Quanta 200", property_tag="91", filestore_path="Quanta",
         harvester="sharepoint", timezone_str="America/New_York"),
]
LOGS_28 = [
    *_log(f"{NEMO}/usage_events/?id=1", TITAN, "2025-05-01T09:00:00-06:00", "2025-05-01T11:30:00-06:00", "COMPLETED", "jat"),
    dict(session_identifier=f"{NEMO}/usage_events/?id=1", instrument=TITAN, timestamp="2025-05-01T12:00:00-06:00",
         event_type="RECORD_GENERATION", record_status="WAITING_FOR_END", user="jat"),  # NexusLIMS leaves its default
    *_log(f"{NEMO}/usage_events/?id=2", TITAN, "2025-05-02T08:00:00-06:00", "2025-05-02T10:00:00-06:00", "TO_BE_BUILT", "alice"),
    *_log(f"{NEMO}/usage_events/?id=3", TITAN, "2025-05-03T08:00:00-06:00", "2025-05-03T09:00:00-06:00", "BUILT_NOT_EXPORTED", "jat"),
    *_log(f"{NEMO}/usage_events/?id=4", TITAN, "2025-05-01T10:00:00-06:00", "2025-05-01T10:30:00-06:00", "COMPLETED", "bob"),  # overlaps 1
    *_log("q-1", QUANTA, "2025-06-01T09:00:00-04:00", "2025-06-01T12:00:00-04:00", "NO_FILES_FOUND", "bob"),
    *_log("q-2", QUANTA, "2025-06-02T09:00:00-04:00", None, "WAITING_FOR_END", "bob"),  # abandoned: q-3 started later
    *_log("q-3", QUANTA, "2025-06-03T09:00:00-04:00", "2025-06-03T10:00:00-04:00", "ERROR", "carol"),
    *_log("q-4", QUANTA, "2025-06-04T09:00:00-04:00", "2025-06-04T10:00:00-04:00", "NO_RESERVATION", "carol"),
    *_log("q-5", QUANTA, "2025-06-05T09:00:00-04:00", None, "WAITING_FOR_END", "dana"),  # still running: the latest
]
EXPECTED_28 = {  # identifier -> (instrument, start UTC, end UTC, user, status)
    f"{NEMO}/usage_events/?id=1": (TITAN, "2025-05-01T15:00", "2025-05-01T17:30", "jat", "COMPLETED"),
    f"{NEMO}/usage_events/?id=2": (TITAN, "2025-05-02T14:00", "2025-05-02T16:00", "alice", "TO_BE_BUILT"),
    f"{NEMO}/usage_events/?id=3": (TITAN, "2025-05-03T14:00", "2025-05-03T15:00", "jat", "COMPLETED"),
    "q-1": (QUANTA, "2025-06-01T13:00", "2025-06-01T16:00", "bob", "NO_FILES"),
    "q-2": (QUANTA, "2025-06-02T13:00", None, "bob", "CANCELLED"),
    "q-3": (QUANTA, "2025-06-03T13:00", "2025-06-03T14:00", "carol", "ERROR"),
    "q-4": (QUANTA, "2025-06-04T13:00", "2025-06-04T14:00", "carol", "NEEDS_REVIEW"),
    "q-5": (QUANTA, "2025-06-05T13:00", None, "dana", "WAITING_FOR_END"),
}


def _hm(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if value else None


def _snapshot(db_url: str) -> dict:
    """Everything the import writes, as plain values (instruments, sessions, their audit events)."""
    db = Database(db_url)
    try:
        with db.session() as sess:
            insts = {i.name: (i.display_name, i.location, i.timezone, i.filestore_root, i.harvester, i.harvester_settings)
                     for i in sess.scalars(select(Instrument))}
            sessions = {s.external_id: (s.instrument.name, _hm(s.start), _hm(s.end), s.person.username if s.person else None,
                                        s.status) for s in sess.scalars(select(InstrumentSession).where(InstrumentSession.source == "nexuslims"))}
            events = sess.scalar(select(func.count()).select_from(SessionEvent))
            updated = sorted(str(s.updated_at) for s in sess.scalars(select(InstrumentSession)))
        return {"instruments": insts, "sessions": sessions, "events": events, "updated": updated}
    finally:
        db.dispose()


def test_db_made_by_nexuslims_28_imports_row_for_row_and_twice_changes_nothing(nexuslims_28, db_url, env_for_cli, tmp_path):
    (tmp_path / "nx").mkdir()
    source = nexuslims_venv.make_db(nexuslims_28, tmp_path / "nx" / "nexuslims.db", INSTRUMENTS_28, LOGS_28)
    upgrade(Database(db_url))
    data_root = tmp_path / "instrument-data"
    first = _import(env_for_cli, "--db", str(source), "--data-root", str(data_root))

    assert first["layout"] == "2.x" and first["version"] == "v2_5_0b"
    assert first["instruments"] == {"created": 2}
    assert first["sessions"] == {"created": 8, "skipped": 1}
    [skipped] = first["skipped"]
    assert skipped["item"] == f"session {NEMO}/usage_events/?id=4" and "overlaps session" in skipped["reason"]
    snap = _snapshot(db_url)
    assert snap["sessions"] == {k: tuple(v) for k, v in EXPECTED_28.items()}
    assert snap["instruments"] == {
        TITAN: ("FEI Titan TEM", "Bldg 217 / F113", "America/Denver", str(data_root.resolve() / "Titan"), "none",
                {"url": f"{NEMO}/", "tool_id": 3}),
        QUANTA: ("FEI Quanta 200", "Bldg 223 / B115", "America/New_York", str(data_root.resolve() / "Quanta"), "none", {}),
    }
    assert any("harvester 'sharepoint'" in n["note"] for n in first["notes"])

    second = _import(env_for_cli, "--db", str(source), "--data-root", str(data_root))
    assert second["instruments"] == {"unchanged": 2} and second["sessions"] == {"unchanged": 8, "skipped": 1}
    assert _snapshot(db_url) == snap  # not one row touched, not one audit event added


def test_db_in_the_1x_layout_made_from_the_published_schema_imports_with_local_times(db_url, env_for_cli, tmp_path):
    source = db_1x_from_published_schema(tmp_path / "nexuslims_db.sqlite")
    upgrade(Database(db_url))
    dry = _import(env_for_cli, "--db", str(source), "--dry-run")
    assert dry["dry_run"] and dry["layout"] == "1.x" and dry["instruments"] == {"created": 1}
    assert _snapshot(db_url)["instruments"] == {} and _snapshot(db_url)["sessions"] == {}  # a dry run writes nothing

    report = _import(env_for_cli, "--db", str(source))
    assert report["instruments"] == {"created": 1} and report["sessions"] == {"created": 2, "skipped": 3}
    reasons = {r["item"].rsplit("-", 1)[-1]: r["reason"] for r in report["skipped"]}
    assert "is not after its START" in reasons["000000000003"]
    assert reasons["000000000004"] == "its instrument 'JEOL-3010-TEM-565989' is not in its instruments table"
    assert reasons["000000000005"] == "it has no START event"
    assert any("give --data-root" in n["note"] for n in report["notes"])
    snap = _snapshot(db_url)
    assert snap["sessions"] == {  # New York local time (EST in March, EDT in July) -> UTC
        "6b9e0c1e-0000-4000-8000-000000000001": ("FEI-Helios-DB-636663", "2021-03-01T15:00", "2021-03-01T17:15", "jat", "COMPLETED"),
        "6b9e0c1e-0000-4000-8000-000000000002": ("FEI-Helios-DB-636663", "2021-07-01T13:00", "2021-07-01T14:00", None, "NEEDS_REVIEW"),  # no store: not queued
    }
    assert snap["instruments"]["FEI-Helios-DB-636663"][:4] == ("FEI Helios Dual Beam", "Bldg 217 / E123", "America/New_York", None)
    again = _import(env_for_cli, "--db", str(source))
    assert again["instruments"] == {"unchanged": 1} and again["sessions"] == {"unchanged": 2, "skipped": 3}
    assert _snapshot(db_url) == snap
    with_store = _import(env_for_cli, "--db", str(source), "--data-root", str(tmp_path / "mmfnexus"))  # the store is known now
    assert with_store["instruments"] == {"updated": 1} and with_store["sessions"] == {"updated": 1, "unchanged": 1, "skipped": 3}
    assert _snapshot(db_url)["sessions"]["6b9e0c1e-0000-4000-8000-000000000002"][-1] == "TO_BE_BUILT"  # queued at last


def test_a_file_that_is_not_a_nexuslims_db_is_one_line_saying_what_was_expected(db_url, env_for_cli, tmp_path):
    upgrade(Database(db_url))
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE instruments (id INTEGER PRIMARY KEY, name TEXT)")
    lookalike = tmp_path / "lookalike.sqlite"
    with sqlite3.connect(lookalike) as conn:
        conn.executescript("CREATE TABLE instruments (instrument_pid TEXT); CREATE TABLE session_log (id INTEGER);")
    text = tmp_path / "notes.db"
    text.write_text("not a database at all\n" * 100)
    for path, why in ((other, "no table 'session_log'"), (text, "it is not an SQLite database"),
                      (lookalike, "table 'instruments' lacks filestore_path, location, display_name (2.x) or schema_name (1.x)"),
                      (tmp_path / "missing.db", "does not exist")):
        proc = _nxhub(env_for_cli, "import", "nexuslims", "--db", str(path))
        err = proc.stderr.decode().strip()
        assert proc.returncode != 0 and len(err.splitlines()) == 1, err
        assert err.startswith("nxhub: error: ") and why in err and "tables 'instruments'" in err and "'session_log'" in err
    assert _snapshot(db_url)["instruments"] == {}
