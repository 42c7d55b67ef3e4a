"""Publish: DOIs minted through a DataCite stand-in on loopback; outages, retries, refusals."""

from __future__ import annotations

import logging

import httpx
from datacite import schema45

from nexuslims_kernel.publish import datacite


def test_the_datacite_standin_itself_rejects_bodies_failing_the_schema(standin) -> None:
    auth = (standin.user, standin.password)
    bad = {"data": {"type": "dois", "attributes": {"doi": "10.80000/x", "titles": [{"title": "t"}]}}}
    resp = httpx.post(f"{standin.url}/dois", json=bad, auth=auth)
    assert resp.status_code == 422 and standin.dois == {}
    assert httpx.post(f"{standin.url}/dois", json=bad, auth=("NXHUB.TEST", "wrong")).status_code == 401


def test_publish_mints_one_findable_doi_at_the_datacite_standin(publish_api, world, standin, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    rid = world.records["public"]
    with publish_api.client(world.tokens["owner"]) as owner:
        owner.patch(f"/records/{rid}/curation", json={"title": "Au on C", "description": "Gold *particles*", "keywords": ["gold"]})
        resp = owner.post(f"/records/{rid}/publish")
        assert resp.status_code == 200, resp.text
        doi = resp.json()["doi"]
        assert doi == f"10.80000/nxhub.{rid}" and resp.json()["published_version"] == 1
        sent = standin.dois[doi]
        assert sent["state"] == "findable" and sent["url"] == f"https://nexus.example.org/hub/records/{rid}"
        assert sent["titles"] == [{"title": "Au on C"}] and sent["descriptions"][0]["description"] == "Gold particles"
        assert schema45.validate({k: v for k, v in sent.items() if k not in ("url", "event", "prefix", "doi", "state")})
        record = owner.get(f"/records/{rid}").json()
        assert record["curation"]["doi"] == doi and record["curation"]["published_version"] == 1
        # later curation: a new version; the published one stays named and frozen
        owner.patch(f"/records/{rid}/curation", json={"title": "Au on amorphous C"})
        versions = owner.get(f"/records/{rid}/versions").json()["items"]
        assert [(v["version"], v["published"]) for v in versions] == [(2, False), (1, True)]
        assert owner.get(f"/records/{rid}/versions/1").json()["title"] == "Au on C"
        again = owner.post(f"/records/{rid}/publish")  # publishing again updates the same DOI
        assert again.json()["doi"] == doi and again.json()["published_version"] == 2
        assert len(standin.dois) == 1 and standin.dois[doi]["titles"] == [{"title": "Au on amorphous C"}]
    assert standin.rejected == []
    assert standin.password not in caplog.text


def test_publish_refuses_private_records_other_people_and_bad_setup(publish_api, world, api_server, standin) -> None:
    with publish_api.client(world.tokens["owner"]) as owner:
        for kind in ("private", "group", "embargoed"):
            resp = owner.post(f"/records/{world.records[kind]}/publish")
            assert resp.status_code == 400 and "only public records get a DOI" in resp.json()["error"]["message"], resp.text
    for role, expected in (("other", 403), ("member", 403), ("anonymous", 403), ("instrument", 403)):
        with publish_api.client(world.tokens[role]) as client:
            assert client.post(f"/records/{world.records['public']}/publish").status_code == expected, role
            assert client.post(f"/records/{world.records['private']}/publish").status_code in (403, 404), role
    with api_server.client(world.tokens["owner"]) as owner:  # no DataCite settings
        resp = owner.post(f"/records/{world.records['public']}/publish")
        assert resp.status_code == 400 and "DataCite is not configured" in resp.json()["error"]["message"]
    assert standin.dois == {}


def test_a_datacite_outage_leaves_the_record_unpublished_and_a_retry_makes_no_duplicate(publish_api, world, standin,
                                                                                         caplog) -> None:
    rid = world.records["public"]
    with publish_api.client(world.tokens["owner"]) as owner:
        standin.down = True
        resp = owner.post(f"/records/{rid}/publish")
        assert resp.status_code == 503, resp.text
        message = resp.json()["error"]["message"]
        assert "stays unpublished" in message and "try Publish again" in message and standin.password not in message
        assert owner.get(f"/records/{rid}").json()["curation"]["doi"] is None
        assert "stays unpublished" in owner.get(f"/records/{rid}/curation").json()["publish_error"]
        standin.down, standin.fail_put = False, True  # the draft is made, then DataCite fails
        assert owner.post(f"/records/{rid}/publish").status_code == 503
        assert [s["state"] for s in standin.dois.values()] == ["draft"]
        standin.fail_put = False
        resp = owner.post(f"/records/{rid}/publish")  # retry: "already taken" draft is reused
        assert resp.status_code == 200, resp.text
        assert list(standin.dois) == [f"10.80000/nxhub.{rid}"] and standin.dois[resp.json()["doi"]]["state"] == "findable"
        assert owner.get(f"/records/{rid}/curation").json()["publish_error"] is None
    assert standin.password not in caplog.text


def test_generated_datacite_metadata_validates_with_the_package_schema(settings) -> None:
    data = {"id": 3, "title": "T", "start": "2026-01-05T09:00:00+00:00", "header": {"experimenters": []},
            "access": {"owner": None}, "instrument": {"display_name": "Titan"}, "activities": [],
            "curation": {"version": 0, "keywords": [], "description": ""}}
    attrs = datacite.metadata(data, settings, "https://x.example/records/3", doi="10.80000/nxhub.3")
    assert datacite.schema_errors(attrs) == []
    assert b"<resource" in datacite.to_xml(attrs)
    attrs.pop("creators")
    assert any("creators" in e for e in datacite.schema_errors(attrs))
