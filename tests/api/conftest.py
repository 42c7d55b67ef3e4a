"""API test fixtures: a real server on loopback and a small world of people, records and files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from apikit import KINDS, ApiServer, World, add_record
from datacite_standin import StandIn

from nexuslims_kernel.config import Settings
from nexuslims_kernel.db import Database
from nexuslims_kernel.db.api_tokens import create_api_token
from nexuslims_kernel.db.directory import add_group, add_instrument, add_person, issue_instrument_token, set_membership


@pytest.fixture
def api_server(settings: Settings, db: Database):
    server = ApiServer(settings, db)
    yield server
    server.stop()


@pytest.fixture
def world(settings: Settings, db: Database, tmp_path: Path) -> World:
    store = tmp_path / "store"
    store.mkdir()
    previews = Path(settings.previews_path)
    previews.mkdir(parents=True, exist_ok=True)
    tokens: dict[str, str | None] = {"anonymous": None}
    records, datasets, sessions, relpaths = {}, {}, {}, {}
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "titan", filestore_root=str(store))
        people = {role: add_person(sess, name, is_admin=(role == "admin"))
                  for role, name in (("owner", "alice"), ("member", "bob"), ("other", "carol"), ("admin", "root"))}
        lab = add_group(sess, "lab")
        set_membership(sess, "lab", "alice", True)
        set_membership(sess, "lab", "bob", True)
        for role, person in people.items():
            tokens[role] = create_api_token(sess, person.username, "test")
        tokens["instrument"] = issue_instrument_token(sess, "titan")
        for kind in KINDS:
            rec, ds = add_record(sess, inst, kind, people["owner"], lab if kind == "group" else None, store, previews)
            records[kind], datasets[kind], sessions[kind], relpaths[kind] = rec.id, ds.id, rec.session_id, ds.relpath
    return World(tokens=tokens, records=records, datasets=datasets, sessions=sessions, store=store, relpaths=relpaths)


@pytest.fixture
def standin():
    server = StandIn()
    yield server
    server.stop()


@pytest.fixture
def publish_api(settings, db, standin):
    configured = dataclasses.replace(settings, publish=dataclasses.replace(
        settings.publish, datacite_url=standin.url, datacite_prefix="10.80000", datacite_repository=standin.user,
        datacite_password=standin.password, landing_url="https://nexus.example.org/hub"))
    server = ApiServer(configured, db)
    yield server
    server.stop()
