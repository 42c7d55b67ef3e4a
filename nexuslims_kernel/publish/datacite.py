"""DataCite: metadata built from a curated record, checked against the DataCite 4.5 JSON schema, a DOI minted.

The schema and the REST client are the ``datacite`` package's own
(``datacite.schema45``, ``datacite.DataCiteRESTClient``). Publishing is two calls,
both safe to repeat, so an outage never leaves a half-published record and a retry
never makes a second DOI:

1. ``POST /dois`` creates a *draft* with the record's one DOI,
   ``<prefix>/nxhub.<record id>`` (chosen here, not by DataCite, so it is the same on
   every attempt; "already taken" on a retry means the draft exists and is fine);
2. ``PUT /dois/<doi>`` with ``event: publish`` makes it *findable*, pointing at the
   landing page.

Only after step 2 succeeds is the record marked published (``record_curation``); a
failure stores a one-line reason the owner sees, and the credentials (settings
``publish.datacite_*``, best from the environment) appear in no message or log.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from typing import Any

from nexuslims_kernel.config import Settings
from nexuslims_kernel.errors import InvalidInputError, NxhubError
from nexuslims_kernel.publish.markdown import to_text

log = logging.getLogger("nexuslims_kernel.publish")
SCHEMA_VERSION = "http://datacite.org/schema/kernel-4"


class DataCiteUnavailable(NxhubError):
    """DataCite did not answer or refused; the record stays unpublished and Publish may be retried."""

    http_status = 503


def doi_for(settings: Settings, record_id: int) -> str:
    return f"{settings.publish.datacite_prefix}/nxhub.{record_id}".lower()


def landing_url(settings: Settings, record_id: int, fallback_base: str = "") -> str:
    base = (settings.publish.landing_url or fallback_base).rstrip("/")
    return f"{base}/records/{record_id}"


def _creators(data: dict[str, Any], publisher: str) -> list[dict[str, Any]]:
    people = [p for p in data.get("header", {}).get("experimenters", []) if p.get("name")]
    if people:
        return [{"name": p["name"], "nameType": "Personal"} for p in people]
    owner = data.get("access", {}).get("owner")
    if owner:
        return [{"name": owner, "nameType": "Personal"}]
    return [{"name": publisher, "nameType": "Organizational"}]


def metadata(data: dict[str, Any], settings: Settings, url: str, doi: str | None = None,
             now: dt.datetime | None = None) -> dict[str, Any]:
    """DataCite 4.5 attributes of a curated record (``publish.merge.curated_json`` output)."""
    now = now or dt.datetime.now(dt.UTC)
    cur = data.get("curation", {})
    pub = settings.publish.publisher
    datasets = [d for a in data.get("activities", []) for d in a["datasets"]]
    out: dict[str, Any] = {
        "types": {"resourceTypeGeneral": "Dataset", "resourceType": "Electron microscopy session"},
        "creators": _creators(data, pub),
        "titles": [{"title": data["title"] or f"Record {data['id']}"}],
        "publisher": {"name": pub},
        "publicationYear": str((dt.datetime.fromisoformat(cur["published_at"]) if cur.get("published_at") else now).year),
        "subjects": [{"subject": k} for k in cur.get("keywords", [])],
        "dates": [{"date": data["start"][:10], "dateType": "Collected"}] if data.get("start") else [],
        "formats": sorted({d["format"] for d in datasets if d.get("format")}),
        "sizes": [f"{len(datasets)} datasets"],
        "version": str(cur.get("version", 0)),
        "url": url,
        "schemaVersion": SCHEMA_VERSION,
    }
    inst = data.get("instrument", {})
    if inst.get("display_name"):
        out["subjects"].append({"subject": f"Instrument: {inst['display_name']}"})
    description = html.unescape(to_text(cur.get("description") or ""))
    if description:
        out["descriptions"] = [{"description": description, "descriptionType": "Abstract"}]
    if doi:
        out["doi"] = doi
    return {k: v for k, v in out.items() if v != []}


def schema_errors(attributes: dict[str, Any]) -> list[str]:
    """What is wrong with DataCite attributes per the package's 4.5 JSON schema ([] when valid)."""
    from datacite import schema45

    body = {k: v for k, v in attributes.items() if k not in ("url", "event", "prefix")}
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in schema45.validator.iter_errors(body)]


def to_xml(attributes: dict[str, Any]) -> bytes:
    """The DataCite kernel-4 XML ``<resource>`` of these attributes (for OAI-PMH ``oai_datacite``)."""
    from datacite import schema45

    body = {k: v for k, v in attributes.items() if k not in ("url", "event", "prefix", "doi")}
    if attributes.get("doi"):
        body["identifiers"] = [{"identifier": attributes["doi"], "identifierType": "DOI"}]
    return schema45.tostring(body).encode()


def client(settings: Settings) -> Any:
    from datacite import DataCiteRESTClient

    p = settings.publish
    if not (p.datacite_prefix and p.datacite_repository and p.datacite_password):
        raise InvalidInputError("DataCite is not configured: set publish.datacite_prefix, _repository and _password")
    return DataCiteRESTClient(username=p.datacite_repository, password=p.datacite_password, prefix=p.datacite_prefix,
                              url=p.datacite_url, timeout=p.timeout_s)


def _why(exc: BaseException) -> str:
    """A one-line reason: DataCite's own first error title, never the request (which carries the credentials)."""
    import json

    from datacite.errors import DataCiteError, HttpError

    if isinstance(exc, HttpError):
        return "DataCite could not be reached"
    if isinstance(exc, DataCiteError):
        try:
            title = json.loads(exc.args[0])["errors"][0]["title"]
        except (ValueError, KeyError, IndexError, TypeError):
            title = type(exc).__name__.removeprefix("DataCite").removesuffix("Error").lower() or "error"
        return f"DataCite refused the request: {' '.join(str(title).split())[:200]}"
    return f"DataCite request failed ({type(exc).__name__})"


def mint(settings: Settings, doi: str, attributes: dict[str, Any], draft_exists: bool) -> None:
    """Create (unless ``draft_exists``) and publish ``doi``; raises DataCiteUnavailable with a clear reason."""
    from datacite.errors import DataCiteError, HttpError

    api = client(settings)
    body = {**attributes, "doi": doi}
    try:
        if not draft_exists:
            try:
                api.post_doi({"type": "dois", "attributes": {**body, "prefix": settings.publish.datacite_prefix}})
            except DataCiteError as exc:
                if "taken" not in str(exc).lower():  # a retry after a lost answer: the draft is there already
                    raise
        api.put_doi(doi, {"type": "dois", "attributes": {**body, "event": "publish"}})
    except (DataCiteError, HttpError, OSError) as exc:
        reason = _why(exc)
        log.warning("publishing %s failed: %s", doi, reason)
        raise DataCiteUnavailable(f"{reason}; the record stays unpublished, try Publish again later") from None
