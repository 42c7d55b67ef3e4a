"""Landing pages: no JavaScript, schema.org Dataset JSON-LD, 404 (no leak) for what the visitor may not see."""

from __future__ import annotations

import json
import re

import httpx
import rdflib
from bs4 import BeautifulSoup

SDO = rdflib.Namespace("https://schema.org/")


def _landing(api_server, rid: int | str) -> str:
    return api_server.base.removesuffix("/api/v1") + f"/records/{rid}"


def _json_ld(page: str) -> dict:
    soup = BeautifulSoup(page, "html.parser")
    scripts = soup.find_all("script")
    assert [s.get("type") for s in scripts] == ["application/ld+json"]  # the only script is data, nothing runs
    return json.loads(scripts[0].string)


def test_a_public_record_has_a_landing_page_with_dataset_json_ld(api_server, world) -> None:
    rid, did = world.records["public"], world.datasets["public"]
    with api_server.client(world.tokens["owner"]) as owner:
        owner.patch(f"/records/{rid}/curation", json={
            "title": "Au nanoparticles", "description": "Particles <script>alert(1)</script> **on carbon**",
            "keywords": ["gold", "TEM"], "rating": 5, "datasets": {str(did): {"featured": True, "caption": "Overview"}}})
    resp = httpx.get(_landing(api_server, rid))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert "script-src" not in resp.headers["content-security-policy"] and "default-src 'none'" in resp.headers["content-security-policy"]
    page = resp.text
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "<strong>on carbon</strong>" in page
    assert "Au nanoparticles" in page and "Overview" in page and "version 1" in page
    ld = _json_ld(page)
    assert ld["@context"] == "https://schema.org" and ld["@type"] == "Dataset"
    assert ld["name"] == "Au nanoparticles" and ld["keywords"] == ["gold", "TEM"]
    assert 50 <= len(ld["description"]) <= 5000 and "on carbon" in ld["description"] and "**" not in ld["description"]
    assert page.count("</script>") == 1  # the typed "<script>" text cannot close the JSON-LD block
    assert ld["url"] == _landing(api_server, rid) and ld["creator"][0]["name"] == "alice"
    assert {d["encodingFormat"] for d in ld["distribution"]} == {"application/zip", "application/xml"}
    # as linked data: schema.org vocabulary (the remote context replaced by its @vocab, no network in tests)
    graph = rdflib.Graph().parse(data=json.dumps({**ld, "@context": {"@vocab": "https://schema.org/"}}), format="json-ld")
    subject = rdflib.URIRef(ld["url"])
    assert (subject, rdflib.RDF.type, SDO.Dataset) in graph
    assert str(graph.value(subject, SDO.name)) == "Au nanoparticles"
    assert graph.value(subject, SDO.creator) is not None


def test_private_embargoed_and_missing_records_are_the_same_404_to_anonymous(api_server, world) -> None:
    bodies = set()
    for rid in (world.records["private"], world.records["embargoed"], world.records["group"], 999999):
        resp = httpx.get(_landing(api_server, rid))
        assert resp.status_code == 404
        assert "zebra" not in resp.text
        bodies.add(resp.text.replace(f"record {rid} ", "record N "))
    assert len(bodies) == 1
    with httpx.Client(headers={"Authorization": f"Bearer {world.tokens['owner']}"}) as owner:
        assert owner.get(_landing(api_server, world.records["private"])).status_code == 200
    with httpx.Client(headers={"Authorization": f"Bearer {world.tokens['other']}"}) as other:
        assert other.get(_landing(api_server, world.records["private"])).status_code == 404


def test_hidden_datasets_are_not_on_the_landing_page(api_server, world) -> None:
    rid, did = world.records["public"], world.datasets["public"]
    assert "image_public" in httpx.get(_landing(api_server, rid)).text
    with api_server.client(world.tokens["owner"]) as owner:
        owner.patch(f"/records/{rid}/curation", json={"datasets": {str(did): {"hidden": True}}})
    page = httpx.get(_landing(api_server, rid)).text
    assert "image_public" not in page and not re.search(rf"/datasets/{did}/", page)
