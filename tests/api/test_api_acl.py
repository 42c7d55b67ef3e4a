"""The ACL matrix: every role x every record endpoint x private/group/public/embargoed records."""

from __future__ import annotations

import pytest
from apikit import KINDS, ROLES

VISIBLE = {
    "owner": set(KINDS),
    "member": {"group", "public"},
    "other": {"public"},
    "anonymous": {"public"},
    "instrument": set(),
    "admin": set(KINDS),
}


def record_urls(world, kind: str) -> list[str]:
    rid, did = world.records[kind], world.datasets[kind]
    return [
        f"/records/{rid}", f"/records/{rid}/export/json", f"/records/{rid}/export/eln", f"/records/{rid}/zip", f"/records/{rid}/activities/1/zip",
        f"/records/{rid}/files/{world.relpaths[kind]}", f"/datasets/{did}", f"/datasets/{did}/file", f"/datasets/{did}/preview",
    ]


def test_every_record_endpoint_obeys_the_acl(api_server, world) -> None:
    for role in ROLES:
        with api_server.client(world.tokens[role]) as client:
            for kind in KINDS:
                for url in record_urls(world, kind):
                    resp = client.get(url)
                    if kind in VISIBLE[role]:
                        assert resp.status_code == 200, (role, kind, url, resp.text)
                    else:
                        expected = 403 if role == "instrument" else 404
                        assert resp.status_code == expected, (role, kind, url, resp.text)
                        assert resp.headers["content-type"].startswith("application/json")
                        assert set(resp.json()) == {"error"}
                        assert kind not in resp.text and "zebra" not in resp.text


def test_lists_counts_and_facets_never_leak(api_server, world) -> None:
    for role in ROLES:
        with api_server.client(world.tokens[role]) as client:
            if role == "instrument":
                assert client.get("/records").status_code == 403
                assert client.get("/records/facets").status_code == 403
                continue
            visible = {world.records[k] for k in VISIBLE[role]}
            page = client.get("/records", params={"count": "true"}).json()
            assert {item["id"] for item in page["items"]} == visible and page["total"] == len(visible)
            facets = client.get("/records/facets").json()
            assert facets["total"] == len(visible)
            assert sum(f["count"] for f in facets["facets"]["instrument"]) == len(visible)
            assert sum(f["count"] for f in facets["facets"]["dataset_type"]) == len(visible)
            for kind in KINDS:  # searching for a hidden record's unique word finds nothing, and counts say 0
                found = client.get("/records", params={"q": f"zebra{kind}", "count": "true"}).json()
                assert found["total"] == (1 if kind in VISIBLE[role] else 0)
                counted = client.get("/records/facets", params={"q": f"zebra{kind}", "dataset_type": "Image"}).json()
                assert counted["total"] == (1 if kind in VISIBLE[role] and kind in ("private", "group") else 0)
                assert all(f["count"] > 0 for fs in counted["facets"].values() for f in fs)


@pytest.mark.parametrize("role", ROLES)
def test_admin_endpoints_are_for_admins_only(api_server, world, role) -> None:
    with api_server.client(world.tokens[role]) as client:
        calls = [
            client.get("/admin/users"),
            client.post("/admin/groups", json={"name": f"g{role}"}),
            client.patch(f"/admin/records/{world.records['private']}/access", json={"is_public": False}),
            client.post(f"/admin/sessions/{world.sessions['private']}/rebuild"),
            client.put("/admin/groups/lab/members/carol"),
        ]
        for resp in calls:
            if role == "admin":
                assert resp.status_code in (200, 201), resp.text
            else:
                assert resp.status_code == (401 if role == "anonymous" else 403), resp.text
                assert "error" in resp.json()


@pytest.mark.parametrize("role", ROLES)
def test_logger_endpoints_take_only_instrument_tokens(api_server, world, role) -> None:
    with api_server.client(world.tokens[role]) as client:
        resp = client.get("/logger/heartbeat")
        if role == "instrument":
            assert resp.status_code == 200 and resp.json()["instrument"] == "titan"
        else:
            assert resp.status_code == (401 if role == "anonymous" else 403)


def test_access_changes_take_effect(api_server, world) -> None:
    rid = world.records["private"]
    with api_server.client(world.tokens["admin"]) as admin, api_server.client(world.tokens["other"]) as carol:
        assert carol.get(f"/records/{rid}").status_code == 404
        assert admin.patch(f"/admin/records/{rid}/access", json={"is_public": True}).status_code == 200
        assert carol.get(f"/records/{rid}").status_code == 200
        assert admin.patch(f"/admin/records/{rid}/access", json={"embargo_until": "2999-01-01T00:00:00+00:00"}).status_code == 200
        assert carol.get(f"/records/{rid}").status_code == 404
        assert admin.patch(f"/admin/records/{rid}/access", json={"owner": "carol", "is_public": False}).json()["owner"] == "carol"
        assert carol.get(f"/records/{rid}").status_code == 200


def test_bad_token_is_401_and_me_reports_the_caller(api_server, world) -> None:
    with api_server.client("nxh_not-a-real-token") as client:
        resp = client.get("/records")
        assert resp.status_code == 401 and resp.json()["error"]["message"] == "invalid or revoked token"
    with api_server.client(world.tokens["member"]) as client:
        assert client.get("/me").json() == {"kind": "user", "username": "bob", "is_admin": False, "instrument": None}
