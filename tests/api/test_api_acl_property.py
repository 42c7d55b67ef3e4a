"""Property: for random people, groups and records, every read endpoint answers exactly what the access rule allows.

The rule is computed here from the records' plain attributes (DESIGN.md: owner,
group member, or public after the embargo; admins see all), independently of
the query layer in ``db.acl`` that the API uses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from pathlib import Path

from apikit import add_record
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from nexuslims_kernel.db import record_facets
from nexuslims_kernel.db.api_tokens import create_api_token
from nexuslims_kernel.db.directory import add_group, add_instrument, add_person, set_membership

NOW = dt.datetime.now(dt.UTC)
EMBARGOES = {"none": None, "past": NOW - dt.timedelta(days=1), "future": NOW + dt.timedelta(days=1)}
_counter = itertools.count()


@dataclasses.dataclass(frozen=True)
class Caller:
    name: str | None  # None: anonymous
    groups: frozenset[int] = frozenset()
    admin: bool = False


@dataclasses.dataclass(frozen=True)
class Rec:
    owner: int | None  # index into the people
    group: int | None  # index into the groups
    public: bool
    embargo: str


def may_see(caller: Caller, rec: Rec, people: list[Caller]) -> bool:
    """The access rule, from first principles."""
    if caller.admin:
        return True
    if caller.name is not None:
        if rec.owner is not None and people[rec.owner].name == caller.name:
            return True
        if rec.group is not None and rec.group in caller.groups:
            return True
    embargo = EMBARGOES[rec.embargo]
    return rec.public and (embargo is None or embargo <= NOW)


people_st = st.lists(st.tuples(st.frozensets(st.integers(0, 1), max_size=2), st.sampled_from([False, False, False, True])),
                     min_size=1, max_size=3)
records_st = st.lists(st.builds(Rec, owner=st.none() | st.integers(0, 2), group=st.none() | st.integers(0, 1), public=st.booleans(),
                                embargo=st.sampled_from(sorted(EMBARGOES))), min_size=1, max_size=4)


def _read_urls(rid: int, did: int, relpath: str) -> list[tuple[str, str]]:
    return [("GET", f"/records/{rid}"), ("GET", f"/records/{rid}/export/json"), ("GET", f"/records/{rid}/export/xml"),
            ("GET", f"/records/{rid}/zip"), ("HEAD", f"/records/{rid}/zip"), ("GET", f"/records/{rid}/activities/1/zip"),
            ("GET", f"/records/{rid}/files/{relpath}"), ("GET", f"/datasets/{did}"), ("GET", f"/datasets/{did}/file"),
            ("HEAD", f"/datasets/{did}/file"), ("GET", f"/datasets/{did}/preview")]


@hsettings(max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(people_spec=people_st, records=records_st)
def test_every_read_endpoint_follows_the_rule(api_server, db, settings, tmp_path, people_spec, records) -> None:
    n = next(_counter)
    store, previews = tmp_path / f"store{n}", Path(settings.previews_path)
    store.mkdir()
    previews.mkdir(parents=True, exist_ok=True)
    people: list[Caller] = []
    tokens: dict[str | None, str | None] = {None: None}
    with db.session(write=True) as sess:
        inst = add_instrument(sess, f"inst{n}", filestore_root=str(store))
        groups = [add_group(sess, f"g{n}x{i}") for i in range(2)]
        for i, (member_of, admin) in enumerate(people_spec):
            person = add_person(sess, f"p{n}x{i}", is_admin=admin)
            for g in member_of:
                set_membership(sess, groups[g].name, person.username, True)
            people.append(Caller(person.username, frozenset(member_of), admin))
            tokens[person.username] = create_api_token(sess, person.username)
        persons = {p.username: p for p in sess.query(type(person)).filter(type(person).username.like(f"p{n}x%"))}
        made = []
        for i, rec in enumerate(records):
            owner = persons[people[rec.owner].name] if rec.owner is not None and rec.owner < len(people) else None
            record, ds = add_record(sess, inst, "public", owner, groups[rec.group] if rec.group is not None else None, store, previews,
                                    relpath=f"r{i}/data {i}.dm3")
            record.is_public, record.embargo_until = rec.public, EMBARGOES[rec.embargo]
            made.append((dataclasses.replace(rec, owner=rec.owner if owner is not None else None), record.id, ds.id, ds.relpath))
        sess.flush()
        record_facets.refresh(sess, [rid for _, rid, _, _ in made])
    for caller in [Caller(None), *people]:
        with api_server.client(tokens[caller.name]) as client:
            expected_ids = set()
            for rec, rid, did, relpath in made:
                visible = may_see(caller, rec, people)
                if visible:
                    expected_ids.add(rid)
                for method, url in _read_urls(rid, did, relpath):
                    resp = client.request(method, url)
                    assert resp.status_code == (200 if visible else 404), (caller, rec, method, url, resp.status_code)
            listed = client.get("/records", params={"instrument": f"inst{n}", "count": "true", "limit": 500}).json()
            assert {item["id"] for item in listed["items"]} == expected_ids and listed["total"] == len(expected_ids), caller
            facets = client.get("/records/facets", params={"instrument": f"inst{n}"}).json()
            assert facets["total"] == len(expected_ids), caller
