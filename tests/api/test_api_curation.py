"""Curation through the API: edit, hide, feature, rate; versions; ACL; bad input; rebuild keeps it."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from apikit import KINDS
from sqlalchemy import select

from nexuslims_kernel.db.models import Dataset, InstrumentSession
from nexuslims_kernel.records import write_record
from nexuslims_kernel.records.inputs import DatasetInput


def _add_second_dataset(db, world, kind: str = "public") -> int:
    """A second dataset (file on disk) in the world's record of ``kind``; returns its id."""
    rid = world.records[kind]
    rel = f"{kind}/second_{kind}.dm3"
    (world.store / rel).write_bytes(b"second" * 100)
    with db.session(write=True) as sess:
        first = sess.scalar(select(Dataset).where(Dataset.record_id == rid))
        ds = Dataset(record_id=rid, activity_id=first.activity_id, relpath=rel, name="second", dataset_type="Image",
                     format="dm3", file_size=600, meta={})
        sess.add(ds)
        sess.flush()
        return ds.id


def test_owner_curates_and_every_change_is_a_version(api_server, world, db) -> None:
    rid, first = world.records["public"], world.datasets["public"]
    second = _add_second_dataset(db, world)
    with api_server.client(world.tokens["owner"]) as owner:
        resp = owner.patch(f"/records/{rid}/curation", json={
            "title": "Gold nanoparticles on carbon", "description": "**Au** on C\n\n<script>alert(1)</script>",
            "keywords": ["gold", "TEM", "gold"], "rating": 4})
        assert resp.status_code == 200, resp.text
        assert resp.json()["version"] == 1 and resp.json()["fields"]["keywords"] == ["gold", "TEM"]
        resp = owner.patch(f"/records/{rid}/curation", json={"datasets": {str(second): {"hidden": True},
                                                                           str(first): {"featured": True, "caption": "Overview"}}})
        assert resp.json()["version"] == 2
        again = owner.patch(f"/records/{rid}/curation", json={"rating": 4})  # nothing changes: no new version
        assert again.json()["version"] == 2 and again.json()["changed"] is False

        record = owner.get(f"/records/{rid}").json()
        assert record["title"] == "Gold nanoparticles on carbon"
        listed = {i["id"]: i["title"] for i in owner.get("/records").json()["items"]}
        assert listed[rid] == "Gold nanoparticles on carbon"
        cur = record["curation"]
        assert cur["rating"] == 4 and cur["featured"] == [first] and cur["version"] == 2
        assert "<strong>Au</strong>" in cur["description_html"] and "<script>" not in cur["description_html"]
        assert "&lt;script&gt;" in cur["description_html"]  # shown as text, the source is kept
        assert cur["description"].endswith("<script>alert(1)</script>")
        shown = [d["id"] for a in record["activities"] for d in a["datasets"]]
        assert shown == [first] and record["n_datasets"] == 1
        assert record["activities"][0]["datasets"][0]["caption"] == "Overview"

        versions = owner.get(f"/records/{rid}/versions").json()["items"]
        assert [v["version"] for v in versions] == [2, 1]
        assert versions[0]["created_by"] == "alice"
        assert versions[0]["diff"][f"datasets.{second}.hidden"] == {"old": False, "new": True}
        assert versions[1]["diff"]["title"]["new"] == "Gold nanoparticles on carbon"
        old = owner.get(f"/records/{rid}/versions/1").json()  # version 1: second dataset not hidden yet
        assert old["curation"]["version"] == 1 and {d["id"] for a in old["activities"] for d in a["datasets"]} == {first, second}
        assert owner.get(f"/records/{rid}/export/json", params={"version": 1}).json()["curation"]["version"] == 1
        assert owner.get(f"/records/{rid}/versions/0").json()["title"] != "Gold nanoparticles on carbon"
        for q, found in (("nanoparticles", [rid]), ("TEM gold", [rid]), ("Au", [rid])):
            assert [i["id"] for i in owner.get("/records", params={"q": q}).json()["items"]] == found, q
        owner.patch(f"/records/{rid}/curation", json={"keywords": ["silver"]})  # old curated words are no longer found
        assert owner.get("/records", params={"q": "TEM"}).json()["items"] == []
        assert [i["id"] for i in owner.get("/records", params={"q": "silver"}).json()["items"]] == [rid]
        assert [i["id"] for i in owner.get("/records", params={"q": "zebrapublic"}).json()["items"]] == [rid]  # builder's words stay


def test_hidden_datasets_appear_nowhere(api_server, world, db) -> None:
    rid = world.records["public"]
    second = _add_second_dataset(db, world)
    with api_server.client(world.tokens["owner"]) as owner:
        assert owner.patch(f"/records/{rid}/curation", json={"datasets": {str(second): {"hidden": True}}}).status_code == 200
    for token in (world.tokens["owner"], None):
        with api_server.client(token) as client:
            assert "second_public" not in client.get(f"/records/{rid}").text
            for fmt in ("json", "xml"):
                assert "second_public" not in client.get(f"/records/{rid}/export/{fmt}").text
            crate = zipfile.ZipFile(io.BytesIO(client.get(f"/records/{rid}/export/rocrate").content))
            assert all("second_public" not in crate.read(n).decode("utf-8", "replace") for n in crate.namelist())
            page = client.get(f"/records/{rid}/datasets").json()
            assert page["total"] == 1 and [d["id"] for d in page["items"]] == [world.datasets["public"]]
            assert client.get(f"/records/{rid}/outline").json()["activities"][0]["n_datasets"] == 1
            names = zipfile.ZipFile(io.BytesIO(client.get(f"/records/{rid}/zip").content)).namelist()
            assert not any("second" in n for n in names) and any("image_public" in n for n in names)
            for url in (f"/datasets/{second}", f"/datasets/{second}/file", f"/records/{rid}/files/public/second_public.dm3"):
                assert client.get(url).status_code == 404, url
    with api_server.client(world.tokens["owner"]) as owner:  # kept: the curator still sees it and can show it again
        assert owner.get(f"/records/{rid}/curation").json()["datasets"][str(second)]["hidden"] is True
        owner.patch(f"/records/{rid}/curation", json={"datasets": {str(second): {"hidden": False}}})
        assert owner.get(f"/datasets/{second}").status_code == 200


def test_only_owner_and_admin_curate(api_server, world) -> None:
    """Every curation endpoint: other people and anonymous get 403 (they may see it) or 404 (they may not)."""
    body = {"title": "mine now"}
    for role in ("member", "other", "anonymous", "instrument"):
        with api_server.client(world.tokens[role]) as client:
            for kind in KINDS:
                rid = world.records[kind]
                for resp in (client.get(f"/records/{rid}/curation"), client.patch(f"/records/{rid}/curation", json=body)):
                    assert resp.status_code in (403, 404), (role, kind, resp.status_code, resp.text)
                    if role == "anonymous" or (role == "other" and kind != "public"):
                        visible = kind == "public"
                        assert resp.status_code == (403 if visible else 404), (role, kind, resp.text)
                versions = client.get(f"/records/{rid}/versions")
                if role == "instrument" or (kind != "public" and not (role == "member" and kind == "group")):
                    assert versions.status_code in (403, 404)
    with api_server.client(world.tokens["admin"]) as admin:
        rid = world.records["private"]
        assert admin.patch(f"/records/{rid}/curation", json=body).status_code == 200
        resp = admin.patch(f"/records/{rid}/curation", json={"rating": 5})
        assert resp.status_code == 403 and "owner" in resp.json()["error"]["message"]
    with api_server.client(world.tokens["owner"]) as owner:
        assert owner.get(f"/records/{world.records['private']}").json()["title"] == "mine now"
        assert owner.get(f"/records/{world.records['private']}/versions").json()["items"][0]["created_by"] == "root"


def test_bad_curation_input_is_one_clear_error_and_changes_nothing(api_server, world, db) -> None:
    rid = world.records["public"]
    ids = [_add_second_dataset(db, world)]
    with db.session(write=True) as sess:  # enough datasets to feature seven
        act = sess.scalar(select(Dataset.activity_id).where(Dataset.record_id == rid))
        for i in range(6):
            ds = Dataset(record_id=rid, activity_id=act, relpath=f"public/more_{i}.dm3", name=f"m{i}", meta={})
            sess.add(ds)
            sess.flush()
            ids.append(ds.id)
    other_ds = world.datasets["private"]
    cases = [
        ({"rating": 7}, "rating must be a whole number from 1 to 5"),
        ({"rating": True}, "rating"),
        ({"keywords": "gold"}, "keywords"),
        ({"owner": "carol"}, "owner"),
        ({"datasets": {str(other_ds): {"hidden": True}}}, f"dataset {other_ds} is not in record {rid}"),
        ({"datasets": {str(i): {"featured": True} for i in ids}}, "at most 6 datasets may be featured"),
        ({"title": "x" * 501}, "longer than 500"),
    ]
    with api_server.client(world.tokens["owner"]) as owner:
        for body, message in cases:
            resp = owner.patch(f"/records/{rid}/curation", json=body)
            assert resp.status_code == 400, (body, resp.text)
            assert message in resp.json()["error"]["message"], (body, resp.text)
        assert owner.get(f"/records/{rid}/versions").json()["items"] == []
        assert owner.get(f"/records/{rid}/curation").json()["version"] == 0


def test_a_rebuild_keeps_the_curation(api_server, world, db, settings) -> None:
    rid, did = world.records["public"], world.datasets["public"]
    with api_server.client(world.tokens["owner"]) as owner:
        owner.patch(f"/records/{rid}/curation", json={"title": "Curated", "keywords": ["kept"],
                                                      "datasets": {str(did): {"featured": True, "caption": "c"}}})
    path = world.store / world.relpaths["public"]
    with db.session(write=True) as sess:  # the builder writes the record again, as a rebuild does
        session = sess.get(InstrumentSession, world.sessions["public"])
        item = DatasetInput(relpath=world.relpaths["public"], size=path.stat().st_size, mtime=path.stat().st_mtime, format="dm3")
        write_record(sess, session, [[item]], [], previews_root=settings.previews_path)
    with api_server.client(world.tokens["owner"]) as owner:
        record = owner.get(f"/records/{rid}").json()
        assert record["title"] == "Curated" and record["curation"]["built_title"] != "Curated"
        for word in ("kept", "Curated"):  # search still finds the curated words after the rebuild
            assert [i["id"] for i in owner.get("/records", params={"q": word}).json()["items"]] == [rid], word
        assert record["curation"]["keywords"] == ["kept"] and record["curation"]["featured"] == [did]
        assert record["activities"][0]["datasets"][0]["caption"] == "c"


def test_concurrent_changes_make_consecutive_versions(api_server, world) -> None:
    rid = world.records["private"]

    def edit(i: int) -> int:
        with api_server.client(world.tokens["owner"]) as owner:
            return owner.patch(f"/records/{rid}/curation", json={"keywords": [f"k{i}"]}).status_code

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(edit, range(12)))
    assert set(statuses) <= {200, 409} and statuses.count(200) >= 1
    with api_server.client(world.tokens["owner"]) as owner:
        versions = [v["version"] for v in owner.get(f"/records/{rid}/versions").json()["items"]]
    assert versions == list(range(statuses.count(200), 0, -1))  # no gaps, none lost, none twice


def test_a_featured_dataset_is_the_records_card(api_server, world, db, settings) -> None:
    rid = world.records["public"]
    second = _add_second_dataset(db, world)
    with db.session(write=True) as sess:
        ds = sess.get(Dataset, second)
        ds.preview_path, ds.acquired_at = f"{rid}/second.png", dt.datetime(2027, 1, 1, tzinfo=dt.UTC)  # after the first
    (Path(settings.previews_path) / f"{rid}/second.png").write_bytes(b"\x89PNG\r\n\x1a\nsecond")
    with api_server.client(None) as anon:
        assert anon.get(f"/records/{rid}/preview").content.endswith(b"public")  # the first dataset's
        with api_server.client(world.tokens["owner"]) as owner:
            owner.patch(f"/records/{rid}/curation", json={"datasets": {str(second): {"featured": True}}})
        assert anon.get(f"/records/{rid}/preview").content.endswith(b"second")
        with api_server.client(world.tokens["owner"]) as owner:
            owner.patch(f"/records/{rid}/curation", json={"datasets": {str(second): {"hidden": True}}})
        assert anon.get(f"/records/{rid}/preview").content.endswith(b"public")  # hidden wins over featured
