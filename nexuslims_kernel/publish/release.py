"""Publish: give a public record a DOI (owner or admin), freezing the version it names.

A published version is frozen by construction: versions are never changed, only
added (:mod:`.curation`), so later curation makes a new version while the DOI's
landing page names the published one and shows the latest. Publishing again after
such changes updates the same DOI's metadata to the newer version.
"""

from __future__ import annotations

from typing import Any

from nexuslims_kernel.config import Settings
from nexuslims_kernel.db import Database
from nexuslims_kernel.db.acl import Principal, public_clause
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.models import Record, RecordCuration
from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.publish import curation, datacite
from nexuslims_kernel.publish.merge import curated_json


def _prepare(db: Database, settings: Settings, principal: Principal, record_id: int, base_url: str) -> dict[str, Any]:
    """Check who and what, build and validate the metadata; remember the DOI chosen (inside one transaction)."""
    from nexuslims_kernel.records import load_record, to_json

    with db.session(write=True) as sess:
        curation.curatable_record(sess, principal, record_id)
        if sess.query(Record.id).filter(Record.id == record_id, public_clause()).first() is None:
            raise InvalidInputError(f"record {record_id} is not public (or still under embargo): only public records get a DOI")
        datacite.client(settings)  # configured? (a clear 400 before anything is sent)
        row = curation.curation_row(sess, record_id)
        if row is None:
            row = RecordCuration(record_id=record_id, fields={}, version=0, updated_at=utcnow())
            sess.add(row)
            sess.flush()
        data = curated_json(sess, to_json(load_record(sess, record_id)))
        doi = row.doi or datacite.doi_for(settings, record_id)
        url = datacite.landing_url(settings, record_id, base_url)
        attrs = datacite.metadata(data, settings, url, doi=doi)
        problems = datacite.schema_errors(attrs)
        if problems:
            raise InvalidInputError(f"the record's DataCite metadata is not valid: {problems[0]}")
        row.doi = doi
        return {"doi": doi, "url": url, "attributes": attrs, "version": row.version, "state": row.doi_state}


def publish_record(db: Database, settings: Settings, principal: Principal, record_id: int, base_url: str) -> dict[str, Any]:
    """Mint (or update) the record's DOI and mark it findable; a DataCite failure leaves it unpublished."""
    plan = _prepare(db, settings, principal, record_id, base_url)
    try:
        datacite.mint(settings, plan["doi"], plan["attributes"], draft_exists=plan["state"] == "findable")
    except datacite.DataCiteUnavailable as exc:
        with db.session(write=True) as sess:
            sess.get(RecordCuration, record_id).publish_error = str(exc)
        raise
    with db.session(write=True) as sess:
        row = sess.get(RecordCuration, record_id)
        row.doi_state, row.published_version, row.publish_error = "findable", plan["version"], None
        row.published_at = row.published_at or utcnow()
    return {"record_id": record_id, "doi": plan["doi"], "state": "findable", "published_version": plan["version"],
            "url": plan["url"]}
