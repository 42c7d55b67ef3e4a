"""The OpenAPI 3 document, generated from one table of endpoints and served at /api/v1/openapi.json."""

from __future__ import annotations

import functools
from typing import Any

from nexuslims_kernel import __version__
from nexuslims_kernel.api.base import BaseHandler, dumps

FILTERS = [
    ("q", "Full-text search: every word must match (prefix match); punctuation is ignored"),
    ("instrument", "Instrument name"), ("user", "Owner's username"),
    ("from", "Record start at or after (ISO-8601)"), ("to", "Record start before (ISO-8601)"),
    ("dataset_type", "Image, Spectrum, SpectrumImage, Diffraction, Misc or Unknown"), ("format", "File format"),
]
PAGE = [("sort", "-start (default), start, title, -title, relevance"), ("limit", "1-500, default 50"),
        ("cursor", "next_cursor from the previous page"),
        ("count", "true: also return total, the exact number of matching records (costs a count; default false)")]

# (method, path, tag, summary, who, query parameters, has JSON body)
ENDPOINTS: list[tuple[str, str, str, str, str, list[tuple[str, str]], bool]] = [
    ("get", "/", "auth", "This index: service, version, endpoints", "anyone", [], False),
    ("get", "/me", "auth", "Who the API thinks you are", "anyone", [], False),
    ("post", "/logger/events", "logger", "Post one event or {events: [...]} (idempotent on uuid)", "instrument", [], True),
    ("post", "/logger/start", "logger", "Start a session: {uuid, at, user?, project?, text?, reservation?}", "instrument", [], True),
    ("post", "/logger/end", "logger", "End a session: {uuid, at, session_uuid}", "instrument", [], True),
    ("post", "/logger/note", "logger", "Add a note: {uuid, at, session_uuid, text}", "instrument", [], True),
    ("get", "/logger/heartbeat", "logger", "Token check and server time", "instrument", [], False),
    ("get", "/logger/reservations", "logger", "Today's sessions on this instrument, users and projects", "instrument", [], False),
    ("get", "/records", "records", "List and search records you may see", "anyone", FILTERS + PAGE, False),
    ("get", "/records/facets", "records", "Record counts per instrument, owner, dataset type, format", "anyone", FILTERS, False),
    ("get", "/records/{record_id}", "records", "One record: header, activities, datasets", "anyone", [], False),
    ("get", "/records/{record_id}/outline", "records", "One record's header and activities with dataset counts, no datasets", "anyone", [], False),
    ("get", "/records/{record_id}/datasets", "records", "One page of a record's datasets (light, no raw metadata)", "anyone",
     [("activity", "activity seq (default: all)"), ("offset", "first item, default 0"), ("limit", "1-500, default 50")], False),
    ("get", "/records/{record_id}/preview", "files", "The thumbnail of the record's first dataset that has one", "anyone", [], False),
    ("get", "/records/{record_id}/export/{format}", "records", "Export as xml, json or rocrate", "anyone", [], False),
    ("get", "/records/{record_id}/zip", "files", "All files of the record as a streamed zip", "anyone", [], False),
    ("get", "/records/{record_id}/activities/{seq}/zip", "files", "One activity's files as a streamed zip", "anyone", [], False),
    ("get", "/records/{record_id}/files/{relpath}", "files", "One file of the record (Range supported)", "anyone", [], False),
    ("get", "/datasets/{dataset_id}", "records", "One dataset with normalised and raw metadata", "anyone", [], False),
    ("get", "/datasets/{dataset_id}/file", "files", "The dataset's file (Range supported)", "anyone", [], False),
    ("get", "/datasets/{dataset_id}/preview", "files", "The dataset's thumbnail", "anyone", [], False),
    ("get", "/admin/stats", "admin", "Per-week sessions, hours, files and bytes per instrument; build status and failed sessions", "admin",
     [("weeks", "1-260, default 12"), ("until", "ISO date in the last week (default: latest session)"), ("instrument", "one instrument")],
     False),
    ("get", "/admin/{collection}", "admin", "List instruments, users or groups", "admin", [], False),
    ("post", "/admin/{collection}", "admin", "Create an instrument, user or group", "admin", [], True),
    ("patch", "/admin/{collection}/{name}", "admin", "Edit an instrument or user", "admin", [], True),
    ("put", "/admin/groups/{group}/members/{username}", "admin", "Add a member", "admin", [], False),
    ("delete", "/admin/groups/{group}/members/{username}", "admin", "Remove a member", "admin", [], False),
    ("post", "/admin/sessions/{session_id}/rebuild", "admin", "Queue a session for (re)building", "admin", [], False),
    ("patch", "/admin/records/{record_id}/access", "admin", "Change owner, group, is_public, embargo_until", "admin", [], True),
]

ERROR = {"$ref": "#/components/responses/Error"}


def _operation(method: str, path: str, tag: str, summary: str, who: str, query: list[tuple[str, str]], body: bool) -> dict[str, Any]:
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
              for n in (p.strip("{}") for p in path.split("/") if p.startswith("{"))]
    params += [{"name": n, "in": "query", "required": False, "description": d, "schema": {"type": "string"}} for n, d in query]
    op: dict[str, Any] = {
        "tags": [tag], "summary": summary, "description": f"Who may call: {who}.", "parameters": params,
        "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "responses": {"200": {"description": "OK"}, "400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "413": ERROR},
    }
    if who == "anyone":
        op["security"] = [{}, {"bearer": []}]
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
    return op


@functools.lru_cache(maxsize=4)
def document(prefix: str = "/") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, *rest in ENDPOINTS:
        paths.setdefault(path, {})[method] = _operation(method, path, *rest)
    return {
        "openapi": "3.0.3",
        "info": {"title": "NexusLIMS Hub API", "version": __version__,
                 "description": "Logger events in, records and files out. Records you may not see are reported as 404."},
        "servers": [{"url": prefix.rstrip("/") + "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Personal, instrument (Logger) or JupyterHub API token"}},
            "responses": {"Error": {"description": "Error", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"error": {"type": "object", "properties": {
                    "status": {"type": "integer"}, "message": {"type": "string"}}}}}}}}},
        },
        "paths": paths,
    }


class OpenApiHandler(BaseHandler):
    """GET /openapi.json (no authentication needed, but a bad token is still refused)."""

    async def get(self) -> None:
        self.finish(dumps(document(self.ctx.settings.api.base_path)))
