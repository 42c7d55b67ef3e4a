"""The OpenAPI document describes every body for real: a test drives every endpoint and checks the traffic against it."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from openapi_check import OpenApiChecker
from openapi_spec_validator import validate

from nexuslims_kernel.api.openapi import ENDPOINTS, document


def test_the_document_is_valid_openapi_with_a_schema_for_every_body(api_server) -> None:
    with api_server.client() as client:
        doc = client.get("/openapi.json").json()
    validate(doc)
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if "requestBody" in op:
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                assert schema != {"type": "object"}, (method, path)
            ok = [body for status, body in op["responses"].items() if status.startswith("2")]
            assert ok, (method, path)
            for body in ok:
                for media, content in body["content"].items():
                    if media == "application/json":
                        assert "$ref" in content["schema"] or "oneOf" in content["schema"], (method, path)


@pytest.mark.parametrize(("url", "body", "field"), [
    ("/admin/records/{private}/access", {"owner": ["x"]}, "owner"),
    ("/admin/records/{private}/access", {"is_public": "yes"}, "is_public"),
    ("/admin/records/{private}/access", {"group": {"name": "lab"}}, "group"),
    ("/admin/users/alice", {"display_name": {}}, "display_name"),
    ("/admin/users/alice", {"email": []}, "email"),
    ("/admin/users/alice", {"is_admin": 1}, "is_admin"),
    ("/admin/instruments/titan", {"timezone": 5}, "timezone"),
    ("/admin/instruments/titan", {"harvester_settings": "x"}, "harvester_settings"),
])
def test_admin_bodies_of_the_wrong_type_are_400_naming_the_field(api_server, world, url, body, field) -> None:
    with api_server.client(world.tokens["admin"]) as admin:
        resp = admin.patch(url.format(private=world.records["private"]), json=body)
        assert resp.status_code == 400, resp.text
        assert field in resp.json()["error"]["message"]
        for kind, bad in (("users", {"username": 7}), ("groups", {"name": ["lab"]}), ("instruments", {"name": "x", "location": []})):
            resp = admin.post(f"/admin/{kind}", json=bad)
            assert resp.status_code == 400 and list(bad)[-1] in resp.json()["error"]["message"], resp.text
        assert admin.get("/admin/users/alice").json()["display_name"] is None  # nothing changed


def test_every_endpoint_answers_as_documented(api_server, world, settings, publish_api) -> None:
    with api_server.client() as client:
        doc = client.get("/openapi.json").json()
    check = OpenApiChecker(doc, settings.api.base_path)
    rid, did, rel = world.records["private"], world.datasets["private"], world.relpaths["private"]
    with check.client(api_server.base) as anon:
        anon.get("/")
        anon.get("/me")
        anon.get("/records")
        anon.get(f"/records/{rid}")
        anon.get("/me/tokens")
        anon.get("/admin/users")
    with check.client(api_server.base, world.tokens["owner"]) as owner:
        owner.get("/me")
        first = owner.get("/records", params={"limit": 1, "count": "true"}).json()
        owner.get("/records", params={"limit": 1, "cursor": first["next_cursor"]})
        owner.get("/records", params={"from": "0001-01-01T00:00:00+01:00"})
        owner.get("/records/facets", params={"q": "zebra"})
        owner.get(f"/records/{rid}")
        owner.get("/records/999999")
        for fmt in ("xml", "json", "rocrate", "eln"):
            owner.get(f"/records/{rid}/export/{fmt}")
        for url in (f"/records/{rid}/zip", f"/records/{rid}/activities/1/zip", f"/records/{rid}/files/{rel}",
                    f"/datasets/{did}/file", f"/datasets/{did}/preview"):
            owner.get(url)
            owner.head(url)
        owner.get(f"/datasets/{did}/file", headers={"Range": "bytes=0-9"})
        owner.get(f"/datasets/{did}/file", headers={"Range": "bytes=99999999-"})
        owner.get(f"/datasets/{did}")
        owner.get(f"/records/{rid}/outline")
        owner.get(f"/records/{rid}/datasets", params={"activity": 1, "limit": 10})
        owner.get(f"/records/{rid}/preview")
        owner.head(f"/records/{rid}/preview")
        owner.get("/logger/heartbeat")
        owner.get("/admin/users")
        tokens = owner.get("/me/tokens").json()["items"]
        owner.delete("/me/tokens/999999")
    session = str(uuid.uuid4())
    at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0)  # inside the clock window

    def t(minutes: int) -> str:
        return (at + dt.timedelta(minutes=minutes)).isoformat()

    with check.client(api_server.base, world.tokens["instrument"]) as logger:
        logger.get("/logger/heartbeat")
        logger.get("/logger/reservations")
        logger.get("/logger/files", params={"since": t(0)})
        logger.post("/logger/start", json={"uuid": session, "at": t(0), "user": "alice", "text": "hi"})
        logger.post("/logger/note", json={"uuid": str(uuid.uuid4()), "session_uuid": session, "at": t(30), "text": "note"})
        logger.post("/logger/end", json={"uuid": str(uuid.uuid4()), "session_uuid": session, "at": t(60)})
        logger.post("/logger/events", json={"uuid": session, "kind": "START", "at": t(0), "user": "alice", "text": "hi"})
        logger.post("/logger/events", json={"events": [{"uuid": str(uuid.uuid4()), "kind": "NOTE", "session_uuid": session,
                                                        "at": t(40), "text": "batch"}]})
        logger.post("/logger/start", json={"uuid": "not-a-uuid", "at": t(0)})
        logger.get("/records")
    with check.client(api_server.base, world.tokens["admin"]) as admin:
        for kind, body in (("instruments", {"name": "krios", "timezone": "Europe/Berlin", "filestore_root": str(world.store)}),
                           ("users", {"username": "dave", "email": "dave@example.org"}), ("groups", {"name": "cryo"})):
            admin.post(f"/admin/{kind}", json=body)
            admin.get(f"/admin/{kind}")
        admin.post("/admin/groups", json={"name": "cryo", "colour": "blue"})
        for kind, key, change in (("instruments", "krios", {"location": "B12"}), ("users", "dave", {"display_name": "Dave"})):
            admin.get(f"/admin/{kind}/{key}")
            admin.patch(f"/admin/{kind}/{key}", json=change)
            admin.get(f"/admin/{kind}/nobody")
        admin.put("/admin/groups/cryo/members/dave")
        admin.delete("/admin/groups/cryo/members/dave")
        admin.post(f"/admin/sessions/{world.sessions['private']}/rebuild")
        admin.get("/admin/stats", params={"weeks": 4})
        admin.patch(f"/admin/records/{rid}/access", json={"is_public": False, "embargo_until": "2030-01-01T00:00:00Z"})
        admin.patch(f"/admin/records/{rid}/access", json={"owner": ["x"]})
    with check.client(api_server.base) as anon:  # publish: OAI-PMH
        anon.get("/oai", params={"verb": "Identify"})
        anon.post("/oai", data={"verb": "ListRecords", "metadataPrefix": "oai_dc"})
    with check.client(publish_api.base, world.tokens["owner"]) as owner:  # publish: curation, versions, DOI (DataCite stand-in)
        pub = world.records["public"]
        owner.patch(f"/records/{pub}/curation", json={"title": "Curated", "keywords": ["k"], "rating": 3,
                                                      "datasets": {str(world.datasets["public"]): {"featured": True}}})
        owner.patch(f"/records/{pub}/curation", json={"rating": 9})
        owner.get(f"/records/{pub}/curation")
        owner.get(f"/records/{pub}/versions")
        owner.get(f"/records/{pub}/versions/1")
        owner.post(f"/records/{pub}/publish")
        owner.post(f"/records/{rid}/publish")
    with check.client(api_server.base, world.tokens["owner"]) as owner:
        owner.delete(f"/me/tokens/{tokens[0]['id']}")
    with check.client(api_server.base, world.tokens["other"]) as other:
        other.delete("/me/tokens")
    assert check.failures == []
    exercised = {(method, template) for method, template, status in check.seen if 200 <= status < 300}
    documented = {(ep.method, ep.path) for ep in ENDPOINTS}
    assert documented - exercised == set()
    assert document(settings.api.base_path) == doc
