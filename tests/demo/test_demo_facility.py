"""``nxhub demo``: rows, files in their session windows, idempotence, and (with the builder) records."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from nexuslims_kernel.db import Database
from nexuslims_kernel.db.models import Group, Instrument, InstrumentSession, Person, Project, Record


def _demo(env, *args):
    proc = subprocess.run(
        [sys.executable, "-m", "nexuslims_kernel.cli.main", "--json", "demo", *args], env=env, capture_output=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return json.loads(proc.stdout)


def test_demo_without_build_is_idempotent_and_files_fall_in_their_sessions(db_url, env_for_cli):
    first = _demo(env_for_cli, "--no-build")
    second = _demo(env_for_cli, "--no-build")
    assert [s["id"] for s in first["sessions"]] == [s["id"] for s in second["sessions"]]
    assert all(s["created"] for s in first["sessions"]) and not any(s["created"] for s in second["sessions"])
    assert {u["username"]: u["groups"] for u in first["users"]} == {
        "alice": ["materials-lab"],
        "bob": ["catalysis-lab", "materials-lab"],
        "carol": ["catalysis-lab"],
        "dana": [],
    }
    assert [u["username"] for u in first["users"] if u["admin"]] == ["dana"]

    db = Database(db_url)
    try:
        with db.session() as sess:
            assert sess.scalar(select(func.count()).select_from(Person)) == 4
            assert sess.scalar(select(Person.username).where(Person.is_admin)) == "dana"
            assert sess.scalar(select(func.count()).select_from(Group)) == 2
            assert sess.scalar(select(func.count()).select_from(Project)) == 2
            instruments = {i.name: i for i in sess.scalars(select(Instrument))}
            assert {n: i.timezone for n, i in instruments.items()} == {
                "Demo-TEM": "Europe/Berlin",
                "Demo-SEM": "America/New_York",
            }
            sessions = list(sess.scalars(select(InstrumentSession).order_by(InstrumentSession.id)))
            assert (
                len(sessions) == 8
                and {s.status for s in sessions} == {"TO_BE_BUILT"}
                and {s.source for s in sessions} == {"logger"}
            )
            assert sum(1 for s in sessions if s.reservation.get("title")) == 7
            suffixes = set()
            for s in sessions:
                root = Path(instruments[s.instrument.name].filestore_root)
                files = [
                    p
                    for p in root.rglob("*")
                    if p.is_file()
                    and p.parent.name == s.person.username
                    and p.parent.parent.name == s.start.astimezone(_zone(s.instrument.timezone)).date().isoformat()
                ]
                assert files, s.external_id
                for path in files:
                    mtime = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
                    assert s.start <= mtime <= s.end, (path, mtime, s.start, s.end)
                    suffixes.add(path.suffix)
            assert {".hspy", ".tif", ".emd", ".mrcz", ".rpl", ".raw", ".blo"} <= suffixes
            assert any(p.name.startswith("exspy_") for i in instruments.values() for p in Path(i.filestore_root).rglob("*"))
    finally:
        db.dispose()


def _zone(name):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def test_demo_builds_records_with_different_access(db_url, env_for_cli):
    from lxml import etree  # noqa: F401

    from nexuslims_kernel.records import load_record, to_xml, validation_errors

    out = _demo(env_for_cli)
    assert out["built"] and all(s["record_id"] for s in out["sessions"])
    db = Database(db_url)
    try:
        with db.session() as sess:
            records = list(sess.scalars(select(Record)))
            assert len(records) == 8 and all(r.n_datasets > 0 for r in records)
            assert sum(r.is_public for r in records) == 2
            assert sum(r.group_id is None for r in records) == 2
            for r in records:
                assert validation_errors(to_xml(load_record(sess, r.id))) == []
            # survey_003.tif's TIFF time is 09:18 on the Berlin microscope's clock (08:18 UTC): it belongs
            # with the surveys taken minutes before it, not with the EDS maps an hour later.
            first = load_record(sess, out["sessions"][0]["record_id"])
            by_name = {d.relpath.rsplit("/", 1)[-1]: d for d in first.datasets}
            survey = by_name["survey_003.tif"]
            assert survey.acquired_at == dt.datetime(2025, 3, 3, 8, 18, tzinfo=dt.UTC)
            assert survey.activity_id == by_name["survey_001.hspy"].activity_id != by_name["eds_particle_01.hspy"].activity_id
        _readme_search_finds_demo_records(db_url, env_for_cli)
    finally:
        db.dispose()


def _readme_search_finds_demo_records(db_url, env_for_cli):
    """The README's search example, sent anonymously to a real API over the demo data, finds a record."""
    import re

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
    from apikit import ApiServer

    from nexuslims_kernel.config import load_settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    example = re.search(r"`GET (/records\?q=[^`]+)`", readme).group(1)
    settings = load_settings(environ={}, overrides={"data_dir": env_for_cli["NXHUB_DATA_DIR"], "database_url": db_url})
    server = ApiServer(settings, Database(db_url))
    try:
        with server.client() as client:
            items = client.get(example).json()["items"]
    finally:
        server.stop()
    assert items and all(i["instrument"] == "Demo-TEM" and "FePt" in i["title"] for i in items)


def _demo_fails(env, *args):
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", "demo", "--no-build", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def _nxhub(env, *args):
    subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env, check=True, capture_output=True, timeout=120)


def _is_demo(db_url) -> bool:
    from nexuslims_kernel.demo.facility import is_demo_facility

    db = Database(db_url)
    try:
        with db.session() as sess:
            return is_demo_facility(sess)
    finally:
        db.dispose()


def test_demo_refuses_a_facility_that_has_people_or_instruments(db_url, env_for_cli):
    for args in (["init"], ["users", "add", "erin", "--name", "Erin Existing"]):
        _nxhub(env_for_cli, *args)
    proc = _demo_fails(env_for_cli)
    assert proc.returncode == 5 and proc.stderr.count("\n") == 1, proc.stderr
    assert "holds a facility the demo did not make (user erin" in proc.stderr and "--force" in proc.stderr
    db = Database(db_url)
    try:
        with db.session() as sess:  # nothing created, erin in no demo group
            assert sess.scalar(select(func.count()).select_from(Instrument)) == 0
            assert sess.scalar(select(func.count()).select_from(Group)) == 0
    finally:
        db.dispose()
    assert _demo_fails(env_for_cli, "--force").returncode == 0
    assert not _is_demo(db_url)  # a forced merge is still a real facility: the next run is refused again
    assert _demo_fails(env_for_cli).returncode == 5


def test_a_facility_whose_first_user_is_alice_is_not_the_demo(db_url, env_for_cli):
    """Names decide nothing: alice (the demo has an alice too) makes this a real facility."""
    _nxhub(env_for_cli, "init")
    _nxhub(env_for_cli, "users", "add", "alice", "--name", "Alice Real")
    proc = _demo_fails(env_for_cli)
    assert proc.returncode == 5 and proc.stderr.count("\n") == 1, proc.stderr
    assert "user alice" in proc.stderr and "for a separate demo: nxhub --data-dir .nxhub-demo demo" in proc.stderr
    db = Database(db_url)
    try:
        with db.session() as sess:
            assert sess.scalar(select(func.count()).select_from(Instrument)) == 0
            assert [(p.username, p.display_name, p.groups) for p in sess.scalars(select(Person))] == [("alice", "Alice Real", [])]
    finally:
        db.dispose()
    assert not _is_demo(db_url)


def test_the_demo_runs_again_in_its_own_data_dir_even_after_people_use_it(db_url, env_for_cli):
    _demo(env_for_cli, "--no-build")
    assert _is_demo(db_url)
    _nxhub(env_for_cli, "users", "add", "erin", "--name", "Erin Trying-It-Out")  # someone plays with the demo facility
    again = _demo(env_for_cli, "--no-build")
    assert not any(s["created"] for s in again["sessions"]) and _is_demo(db_url)
