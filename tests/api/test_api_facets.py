"""Facets count records (not datasets), total is opt-in, and record_facets follows datasets and migrations."""

from __future__ import annotations

from pathlib import Path

from apikit import add_record
from sqlalchemy import delete, func, insert, select, text

from nexuslims_kernel.db import downgrade, record_facets, search, upgrade
from nexuslims_kernel.db.acl import Principal
from nexuslims_kernel.db.models import Dataset, Instrument, Person, Record
from nexuslims_kernel.db.record_query import RecordFilter, facets


def _add_many_datasets(db, world, settings) -> int:
    """A private record of alice with 30 datasets: 3 types x 10 files, formats dm4/tif."""
    with db.session(write=True) as sess:
        inst, alice = sess.get(Instrument, 1), sess.scalar(select(Person).where(Person.username == "alice"))
        rec, _ds = add_record(sess, inst, "bulk", alice, None, world.store, Path(settings.previews_path), title="Bulk quokka run")
        sess.execute(insert(Dataset), [{"record_id": rec.id, "relpath": f"bulk/{k}.x", "name": f"f{k}", "dataset_type": t,
                                        "format": "tif" if k % 2 else "dm4"}
                                       for k in range(10) for t in ("Image", "Spectrum", "Diffraction")])
        record_facets.refresh(sess, [rec.id])
        return rec.id


def test_facets_count_records_once_and_filters_use_them(api_server, world, db, settings) -> None:
    rid = _add_many_datasets(db, world, settings)
    with api_server.client(world.tokens["owner"]) as client:
        body = client.get("/records/facets", params={"q": "quokka"}).json()
        assert body["total"] == 1
        counts = {kind: {f["value"]: f["count"] for f in fs} for kind, fs in body["facets"].items()}
        assert counts["dataset_type"] == {"Image": 1, "Spectrum": 1, "Diffraction": 1}
        assert counts["format"] == {"dm3": 1, "dm4": 1, "tif": 1}
        assert counts["owner"] == {"alice": 1} and counts["instrument"] == {"titan": 1}
        found = client.get("/records", params={"format": "tif", "dataset_type": "Diffraction", "count": "true"}).json()
        assert [i["id"] for i in found["items"]] == [rid] and found["total"] == 1
    with api_server.client(world.tokens["other"]) as client:  # not carol's: no trace in counts or facets
        body = client.get("/records/facets", params={"format": "tif"}).json()
        assert body["total"] == 0 and all(not fs for fs in body["facets"].values())


def test_total_is_opt_in(api_server, world) -> None:
    with api_server.client(world.tokens["owner"]) as client:
        plain = client.get("/records").json()
        assert "total" not in plain and len(plain["items"]) == 4
        assert client.get("/records", params={"count": "true"}).json()["total"] == 4
        assert "total" not in client.get("/records", params={"count": "false"}).json()
        bad = client.get("/records", params={"count": "maybe"})
        assert bad.status_code == 400 and "count" in bad.json()["error"]["message"]


def test_migration_backfills_record_facets(db, world, settings) -> None:
    _add_many_datasets(db, world, settings)
    admin = Principal(kind="user", person_id=0, is_admin=True)
    with db.session() as sess:
        before = facets(sess, admin, RecordFilter())
    downgrade(db, "0001")
    upgrade(db)
    with db.session() as sess:
        assert facets(sess, admin, RecordFilter()) == before
        assert before[1]["dataset_type"] == [{"value": "Image", "count": 3}, {"value": "Spectrum", "count": 3},
                                             {"value": "Diffraction", "count": 1}]


def test_facet_keys_follow_datasets_and_survive_a_downgrade(db, world, settings) -> None:
    rid = _add_many_datasets(db, world, settings)
    admin = Principal(kind="user", person_id=0, is_admin=True)
    with db.session(write=True) as sess:  # the record is rebuilt without its diffraction patterns
        sess.execute(delete(Dataset).where(Dataset.record_id == rid, Dataset.dataset_type == "Diffraction"))
        record_facets.refresh(sess, [rid])
    with db.session() as sess:
        before = facets(sess, admin, RecordFilter())
        assert {f["value"] for f in before[1]["dataset_type"]} == {"Image", "Spectrum"}
        assert facets(sess, admin, RecordFilter(q="quokka"))[1]["dataset_type"] == [
            {"value": "Image", "count": 1}, {"value": "Spectrum", "count": 1}]
    downgrade(db, "0002")  # the 0002 layout: one combination row per record, search triggers intact
    with db.session() as sess:
        combos = sess.scalars(select(record_facets.record_facets.c.value).where(
            record_facets.record_facets.c.record_id == rid, record_facets.record_facets.c.kind == "combo")).all()
        assert [record_facets.decode_combo(c) for c in combos] == [{"dataset_type": ["Image", "Spectrum"], "format": ["dm3", "dm4", "tif"]}]
    with db.session(write=True) as sess:  # a retitle at 0002 must still reach the full-text index
        sess.execute(text("UPDATE records SET title = 'Bulk wombat run' WHERE id = :id"), {"id": rid})
    with db.session() as sess:
        hits = select(func.count(Record.id)).where(search.match_clause(db.dialect, "wombat"))
        assert sess.scalar(hits) == 1
    upgrade(db)
    with db.session() as sess:
        assert facets(sess, admin, RecordFilter()) == before
        assert facets(sess, admin, RecordFilter(q="wombat"))[0] == 1  # full-text search still finds it
