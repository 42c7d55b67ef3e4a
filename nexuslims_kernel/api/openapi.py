"""The OpenAPI 3 document, generated from one table of endpoints and served at /api/v1/openapi.json."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from nexuslims_kernel import __version__
from nexuslims_kernel.api.base import BaseHandler, dumps
from nexuslims_kernel.api.schemas import INT, SCHEMAS, ref

FILTERS = [
    ("q", "Full-text search: every word must match (prefix match); punctuation is ignored"),
    ("instrument", "Instrument name"), ("user", "Owner's username"),
    ("from", "Record start at or after (ISO-8601)"), ("to", "Record start before (ISO-8601)"),
    ("dataset_type", "Image, Spectrum, SpectrumImage, Diffraction, Misc or Unknown"), ("format", "File format"),
]
PAGE = [("sort", "-start (default), start, title, -title, relevance"), ("limit", "1-500, default 50"),
        ("cursor", "next_cursor from the previous page"),
        ("count", "true: also return total, the exact number of matching records (costs a count; default false)")]

BINARY = {"type": "string", "format": "binary"}
FILE = {"200": "application/octet-stream", "206": "application/octet-stream", "416": "Error"}
ZIP = {"200": "application/zip"}


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """One documented operation: who may call it, its query parameters, its body and its answers.

    ``request`` and the values of ``responses`` name a schema of :mod:`.schemas`
    (JSON) or are a media type (files); error answers share the ``Error`` schema.
    """

    method: str
    path: str
    tag: str
    summary: str
    who: str
    query: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    request: str | None = None
    responses: dict[str, str] = dataclasses.field(default_factory=dict)

    def __iter__(self):  # (method, path, ...) unpacking, as callers of the old tuples did
        return iter((self.method, self.path, self.tag, self.summary, self.who, self.query, self.request, self.responses))


def _files(path: str, tag: str, summary: str, responses: dict[str, str]) -> list[Endpoint]:
    """GET and HEAD of a file download (HEAD: the same headers, no body)."""
    return [Endpoint("get", path, tag, summary, "anyone", responses=responses),
            Endpoint("head", path, tag, summary + " (headers only)", "anyone", responses=responses)]


ENDPOINTS: list[Endpoint] = [
    Endpoint("get", "/", "auth", "This index: service, version, endpoints", "anyone", responses={"200": "Index"}),
    Endpoint("get", "/me", "auth", "Who the API thinks you are", "anyone", responses={"200": "Me"}),
    Endpoint("get", "/me/tokens", "auth", "Your personal API tokens (never their values)", "a person", responses={"200": "TokenList"}),
    Endpoint("delete", "/me/tokens", "auth", "Revoke all your personal API tokens", "a person", responses={"200": "Revoked"}),
    Endpoint("delete", "/me/tokens/{token_id}", "auth", "Revoke one of your personal API tokens", "a person",
             responses={"200": "Revoked"}),
    Endpoint("post", "/logger/events", "logger", "Post one event or {events: [...]} (idempotent on uuid)", "instrument",
             request="LoggerEvent | LoggerBatch", responses={"200": "EventResult | BatchResult"}),
    *[Endpoint("post", f"/logger/{kind}", "logger", summary, "instrument", request="LoggerEvent", responses={"200": "EventResult"})
      for kind, summary in (("start", "Start a session: {uuid, at, user?, project?, text?, reservation?}"),
                            ("end", "End a session: {uuid, at, session_uuid}"), ("note", "Add a note: {uuid, at, session_uuid, text}"))],
    Endpoint("get", "/logger/heartbeat", "logger", "Token check and server time", "instrument", responses={"200": "Heartbeat"}),
    Endpoint("get", "/logger/reservations", "logger", "Today's sessions on this instrument, users and projects", "instrument",
             responses={"200": "Reservations"}),
    Endpoint("get", "/logger/files", "logger", "How many files landed in this instrument's store since a time", "instrument",
             [("since", "ISO-8601 time with a UTC offset (the session's start)")], responses={"200": "LoggerFiles"}),
    Endpoint("get", "/records", "records", "List and search records you may see", "anyone", FILTERS + PAGE, responses={"200": "RecordPage"}),
    Endpoint("get", "/records/facets", "records", "Record counts per instrument, owner, dataset type, format", "anyone", FILTERS,
             responses={"200": "Facets"}),
    Endpoint("get", "/records/{record_id}", "records", "One record: header, activities, datasets (curated; hidden datasets left out)",
             "anyone", [("version", "the record as curated at this version (default: the latest)")], responses={"200": "Record"}),
    Endpoint("get", "/records/{record_id}/outline", "records", "One record's header and activities with dataset counts, no datasets",
             "anyone", responses={"200": "RecordOutline"}),
    Endpoint("get", "/records/{record_id}/datasets", "records", "One page of a record's datasets (light, no raw metadata)", "anyone",
             [("activity", "activity seq (default: all)"), ("offset", "first item, default 0"), ("limit", "1-500, default 50")],
             responses={"200": "DatasetPage"}),
    *_files("/records/{record_id}/preview", "files", "The thumbnail of the record's first dataset that has one",
            {**FILE, "200": "image/png"}),
    Endpoint("get", "/admin/stats", "admin", "Per-week sessions, hours, files and bytes per instrument; build status and failed sessions",
             "admin", [("weeks", "1-260, default 12"), ("until", "ISO date in the last week (default: latest session)"),
                       ("instrument", "one instrument")], responses={"200": "AdminStats"}),
    Endpoint("get", "/records/{record_id}/export/{format}", "records", "Export as xml, json, rocrate or eln (.eln: RO-Crate for ELNs)", "anyone",
             [("version", "the record as curated at this version (default: the latest)")],
             responses={"200": "application/xml | Record | application/zip | application/vnd.eln+zip"}),
    *_files("/records/{record_id}/zip", "files", "All files of the record as a streamed zip", ZIP),
    *_files("/records/{record_id}/activities/{seq}/zip", "files", "One activity's files as a streamed zip", ZIP),
    *_files("/records/{record_id}/files/{relpath}", "files", "One file of the record (Range supported)", FILE),
    Endpoint("get", "/records/{record_id}/curation", "curation", "The record's curation, hidden datasets included",
             "the owner or an admin", responses={"200": "Curation"}),
    Endpoint("patch", "/records/{record_id}/curation", "curation",
             "Change title, description (Markdown), keywords, rating (owner) or datasets' hidden/featured/caption; "
             "makes a new version", "the owner or an admin", request="CurationChange", responses={"200": "Curation"}),
    Endpoint("get", "/records/{record_id}/versions", "curation", "The record's versions: who changed what, when", "anyone",
             responses={"200": "VersionList"}),
    Endpoint("get", "/records/{record_id}/versions/{version}", "curation", "The record as curated at one version (0 = as built)",
             "anyone", responses={"200": "Record"}),
    Endpoint("post", "/records/{record_id}/publish", "curation", "Mint the record's DOI with DataCite (public records only)",
             "the owner or an admin", responses={"200": "PublishResult", "503": "Error"}),
    *[Endpoint(method, "/oai", "publish", "OAI-PMH 2.0 (oai_dc, oai_datacite) of the public, unembargoed records", "anyone",
               [("verb", "Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords or GetRecord"),
                ("metadataPrefix", "oai_dc or oai_datacite"), ("identifier", "oai:<host>:record/<id>"), ("set", "a setSpec"),
                ("from", "YYYY-MM-DD[Thh:mm:ssZ]"), ("until", "YYYY-MM-DD[Thh:mm:ssZ]"), ("resumptionToken", "from the last page")],
               responses={"200": "text/xml"}) for method in ("get", "post")],
    Endpoint("get", "/datasets/{dataset_id}", "records", "One dataset with normalised and raw metadata", "anyone",
             responses={"200": "Dataset"}),
    *_files("/datasets/{dataset_id}/file", "files", "The dataset's file (Range supported)", FILE),
    *_files("/datasets/{dataset_id}/preview", "files", "The dataset's thumbnail", {**FILE, "200": "image/png"}),
    *[ep for kind, one, create in (("instruments", "Instrument", "InstrumentCreate"), ("users", "User", "UserCreate"),
                                   ("groups", "Group", "GroupCreate"))
      for ep in (Endpoint("get", f"/admin/{kind}", "admin", f"List {kind}", "admin", responses={"200": f"{one}List"}),
                 Endpoint("post", f"/admin/{kind}", "admin", f"Create one of the {kind}", "admin", request=create,
                          responses={"201": one}))],
    *[ep for kind, key, one in (("instruments", "name", "Instrument"), ("users", "username", "User"))
      for ep in (Endpoint("get", f"/admin/{kind}/{{{key}}}", "admin", f"One of the {kind}", "admin", responses={"200": one}),
                 Endpoint("patch", f"/admin/{kind}/{{{key}}}", "admin", f"Edit one of the {kind}", "admin", request=f"{one}Edit",
                          responses={"200": one}))],
    Endpoint("put", "/admin/groups/{group}/members/{username}", "admin", "Add a member", "admin", responses={"200": "Group"}),
    Endpoint("delete", "/admin/groups/{group}/members/{username}", "admin", "Remove a member", "admin", responses={"200": "Group"}),
    Endpoint("post", "/admin/sessions/{session_id}/rebuild", "admin", "Queue a session for (re)building", "admin",
             responses={"200": "Rebuild"}),
    Endpoint("patch", "/admin/records/{record_id}/access", "admin", "Change owner, group, is_public, embargo_until", "admin",
             request="AccessChange", responses={"200": "AccessResult"}),
]

ERROR = {"$ref": "#/components/responses/Error"}
INTEGER_PARAMS = {"record_id", "dataset_id", "session_id", "seq", "token_id", "version"}


def _content(spec: str) -> dict[str, Any]:
    """``"A | B"`` of schema names (JSON) and media types (binary) -> an OpenAPI content map."""
    names = [part.strip() for part in spec.split("|")]
    content: dict[str, Any] = {n: {"schema": BINARY} for n in names if "/" in n}
    schemas = [ref(n) for n in names if "/" not in n]
    if schemas:
        content["application/json"] = {"schema": schemas[0] if len(schemas) == 1 else {"oneOf": schemas}}
    return content


def _operation(ep: Endpoint) -> dict[str, Any]:
    params = [{"name": n, "in": "path", "required": True, "schema": INT if n in INTEGER_PARAMS else {"type": "string"}}
              for n in (p.strip("{}") for p in ep.path.split("/") if p.startswith("{"))]
    params += [{"name": n, "in": "query", "required": False, "description": d, "schema": {"type": "string"}} for n, d in ep.query]
    responses: dict[str, Any] = dict.fromkeys(("400", "401", "403", "404", "413"), ERROR)
    for status, spec in ep.responses.items():
        responses[status] = ERROR if spec == "Error" else {"description": "OK", "content": _content(spec)}
    responses = dict(sorted(responses.items()))
    op: dict[str, Any] = {
        "tags": [ep.tag], "summary": ep.summary, "description": f"Who may call: {ep.who}.", "parameters": params,
        "operationId": f"{ep.method}_{ep.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "responses": responses,
    }
    if ep.who == "anyone":
        op["security"] = [{}, {"bearer": []}]
    if ep.request:
        op["requestBody"] = {"required": True, "content": _content(ep.request)}
    return op


@functools.lru_cache(maxsize=4)
def document(prefix: str = "/") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for ep in ENDPOINTS:
        paths.setdefault(ep.path, {})[ep.method] = _operation(ep)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": "NexusLIMS Hub API", "version": __version__,
                 "description": "Logger events in, records and files out. Records you may not see are reported as 404."},
        "servers": [{"url": prefix.rstrip("/") + "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Personal, instrument (Logger) or JupyterHub API token"}},
            "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": ref("Error")}}}},
            "schemas": SCHEMAS,
        },
        "paths": paths,
    }


class OpenApiHandler(BaseHandler):
    """GET /openapi.json (no authentication needed, but a bad token is still refused)."""

    async def get(self) -> None:
        self.finish(dumps(document(self.ctx.settings.api.base_path)))
