"""OAI-PMH harvested with a real harvester (oaipmh-scythe): every public record once across pages, nothing private."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import httpx
import pytest
from apikit import ApiServer, add_record
from lxml import etree
from oaipmh_scythe import Scythe
from oaipmh_scythe.exceptions import BadArgument, BadResumptionToken, BadVerb, CannotDisseminateFormat, IdDoesNotExist
from sqlalchemy import select, update

from nexuslims_kernel.db.directory import add_instrument
from nexuslims_kernel.db.models import Instrument, Person, Record, RecordCuration

OAI = "{http://www.openarchives.org/OAI/2.0/}"
N_PUBLIC = 8  # the world's one public record plus seven more, three per page


@pytest.fixture
def oai(settings, db, world, tmp_path: Path):
    with db.session(write=True) as sess:
        titan = sess.scalar(select(Instrument).where(Instrument.name == "titan"))
        krios = add_instrument(sess, "krios", filestore_root=str(world.store))
        alice = sess.scalar(select(Person).where(Person.username == "alice"))
        for i in range(N_PUBLIC - 1):
            add_record(sess, krios if i % 2 else titan, "public", alice, None, world.store, Path(settings.previews_path),
                       title=f"Harvest me {i}", relpath=f"more/h{i}.dm3")
        for i in range(3):
            add_record(sess, titan, "private", alice, None, world.store, Path(settings.previews_path),
                       title=f"Secret {i}", relpath=f"secret/s{i}.dm3")
    small = dataclasses.replace(settings, publish=dataclasses.replace(settings.publish, oai_page_size=3))
    server = ApiServer(small, db)
    yield server
    server.stop()


def _public_ids(db) -> set[int]:
    with db.session() as sess:
        return set(sess.scalars(select(Record.id).where(Record.is_public.is_(True), Record.embargo_until.is_(None))))


def test_a_harvester_gets_every_public_record_once_and_nothing_private(oai, db, world) -> None:
    with Scythe(f"{oai.base}/oai") as scythe:
        identify = scythe.identify()
        assert identify.protocolVersion == "2.0" and identify.baseURL.endswith("/api/v1/oai")
        formats = {f.metadataPrefix for f in scythe.list_metadata_formats()}
        assert formats == {"oai_dc", "oai_datacite"}
        records = list(scythe.list_records(metadata_prefix="oai_dc"))
        ids = [int(r.header.identifier.rsplit("/", 1)[1]) for r in records]
        assert len(ids) == N_PUBLIC and set(ids) == _public_ids(db)  # once each, across three pages
        titles = {t for r in records for t in r.metadata["title"]}
        assert not any("Secret" in t or "zebraprivate" in t or "zebraembargoed" in t for t in titles)
        assert all(r.metadata["type"] == ["Dataset"] for r in records)
        headers = list(scythe.list_identifiers(metadata_prefix="oai_datacite"))
        assert sorted(int(h.identifier.rsplit("/", 1)[1]) for h in headers) == sorted(ids)
        sets = {s.setSpec for s in scythe.list_sets()}
        assert sets == {"instrument:titan", "instrument:krios"}
        krios = list(scythe.list_identifiers(metadata_prefix="oai_dc", set_="instrument:krios"))
        assert len(krios) == 3 and all("instrument:krios" in h.setSpecs for h in krios)
        one = scythe.get_record(identifier=records[0].header.identifier, metadata_prefix="oai_datacite")
        assert one.xml.find(f"{OAI}metadata/{{http://datacite.org/schema/kernel-4}}resource") is not None
        for kind in ("private", "embargoed", "group"):
            with pytest.raises(IdDoesNotExist):
                scythe.get_record(identifier=records[0].header.identifier.rsplit("/", 1)[0] + f"/{world.records[kind]}")


def test_curated_fields_and_from_until_reach_the_harvester(oai, world, db) -> None:
    rid = world.records["public"]
    with oai.client(world.tokens["owner"]) as owner:
        owner.patch(f"/records/{rid}/curation", json={"title": "Curated for harvest", "keywords": ["gold"],
                                                      "description": "Some *gold*"})
    with db.session(write=True) as sess:  # every other record was last changed long ago
        sess.execute(update(Record).where(Record.id != rid).values(updated_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    today = dt.datetime.now(dt.UTC).date().isoformat()
    with Scythe(f"{oai.base}/oai") as scythe:
        recent = list(scythe.list_records(metadata_prefix="oai_dc", from_=today))
        assert [int(r.header.identifier.rsplit("/", 1)[1]) for r in recent] == [rid]
        assert recent[0].metadata["title"] == ["Curated for harvest"] and "gold" in recent[0].metadata["subject"]
        assert recent[0].metadata["description"] == ["Some gold"]
        assert scythe.identify().earliestDatestamp == "2020-01-01T00:00:00Z"
        old = list(scythe.list_identifiers(metadata_prefix="oai_dc", until="2020-01-01"))
        assert len(old) == N_PUBLIC - 1 and rid not in [int(h.identifier.rsplit("/", 1)[1]) for h in old]


def test_oai_errors_are_the_protocol_codes(oai, world) -> None:
    with Scythe(f"{oai.base}/oai") as scythe:
        with pytest.raises(BadVerb):
            scythe.harvest({"verb": "ListEverything"})
        with pytest.raises(BadArgument):
            scythe.harvest({"verb": "ListRecords"})  # no metadataPrefix
        with pytest.raises(BadArgument):
            scythe.harvest({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"})
        with pytest.raises(BadArgument):
            scythe.harvest({"verb": "Identify", "colour": "blue"})
        with pytest.raises(CannotDisseminateFormat):
            scythe.harvest({"verb": "ListRecords", "metadataPrefix": "marc21"})
        with pytest.raises(BadResumptionToken):
            scythe.harvest({"verb": "ListRecords", "resumptionToken": "not-a-token"})
        with pytest.raises(IdDoesNotExist):
            scythe.harvest({"verb": "GetRecord", "identifier": "oai:elsewhere:record/1", "metadataPrefix": "oai_dc"})
    raw = httpx.get(f"{oai.base}/oai", params={"verb": "Nope"})
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(raw.content)
    assert root.find(f"{OAI}error").get("code") == "badVerb" and root.find(f"{OAI}request").attrib == {}
    posted = httpx.post(f"{oai.base}/oai", data={"verb": "Identify"})
    assert etree.fromstring(posted.content).find(f"{OAI}Identify") is not None


def test_a_published_record_made_private_is_marked_deleted(oai, world, db) -> None:
    rid = world.records["public"]
    with db.session(write=True) as sess:
        sess.add(RecordCuration(record_id=rid, fields={}, version=0, doi="10.80000/nxhub.1", doi_state="findable",
                                updated_at=dt.datetime.now(dt.UTC)))
        sess.execute(update(Record).where(Record.id == rid).values(is_public=False))
    with Scythe(f"{oai.base}/oai") as scythe:
        records = list(scythe.list_records(metadata_prefix="oai_dc"))
        gone = [r for r in records if r.header.identifier.endswith(f"/{rid}")]
        assert len(gone) == 1 and gone[0].deleted and len(records) == N_PUBLIC
        assert not any("zebrapublic" in str(r.raw) for r in records)
