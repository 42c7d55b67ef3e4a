"""JSON Schemas of every request and response body, shared by the OpenAPI document and the request checks.

The document is OpenAPI 3.1, whose schemas are JSON Schema 2020-12, so the
same dictionaries validate request bodies here (:func:`validate_body`) and
real responses in the tests. Request bodies are strict (unknown fields are
refused); response objects may grow new fields.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from nexuslims_kernel.api.errors import ApiError

REF = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null (a type list where possible, so errors say "is not of type 'string', 'null'")."""
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}
OBJ = {"type": "object"}


def obj(props: dict[str, Any], required: list[str] | None = None, *, strict: bool = False, **extra: Any) -> dict[str, Any]:
    """An object schema; ``strict`` refuses unknown fields (request bodies)."""
    out: dict[str, Any] = {"type": "object", "properties": props, **extra}
    if required:
        out["required"] = required
    if strict:
        out["additionalProperties"] = False
    return out


def items_of(name: str) -> dict[str, Any]:
    return obj({"items": {"type": "array", "items": ref(name)}}, ["items"])


_EVENT_FIELDS = {
    "uuid": {"type": "string", "format": "uuid", "description": "Client-chosen id; the server is idempotent on it"},
    "kind": {"enum": ["START", "END", "NOTE", "start", "end", "note"], "description": "Implied by /logger/{start,end,note}"},
    "at": {**TIME, "description": "When it happened, with a UTC offset"},
    "session_uuid": {"type": "string", "format": "uuid", "description": "The START event's uuid (END and NOTE)"},
    "user": nullable({"type": "string", "maxLength": 150}),
    "project": nullable({"type": "string", "maxLength": 200}),
    "group": nullable({"type": "string", "maxLength": 200, "description": "The record's group when the project names none"}),
    "text": nullable({"type": "string", "maxLength": 10_000}),
    "reservation": nullable(OBJ),
}

_DATASET_CORE = {
    "id": INT, "relpath": STR, "signal_index": nullable(INT), "name": nullable(STR), "dataset_type": nullable(STR),
    "format": nullable(STR), "acquired_at": nullable(TIME), "file_size": nullable(INT), "shape": {"type": "array", "items": INT},
    "dtype": nullable(STR), "metadata": OBJ, "raw_metadata": OBJ, "companions": {"type": "array", "items": STR},
    "warnings": {"type": "array", "items": STR}, "error": nullable(STR),
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": obj({"error": obj({"status": INT, "message": STR}, ["status", "message"])}, ["error"]),
    "Index": obj({"service": STR, "version": STR, "openapi": STR, "you": OBJ, "endpoints": {"type": "array", "items": STR},
                  "login": STR}, ["service", "version", "openapi", "you", "endpoints"]),
    "Me": obj({"kind": {"enum": ["user", "instrument", "anonymous"]}, "username": nullable(STR), "is_admin": BOOL,
               "instrument": nullable(STR)}, ["kind", "username", "is_admin", "instrument"]),
    "Token": obj({"id": INT, "name": STR, "created_at": nullable(TIME), "expires_at": nullable(TIME),
                  "last_used_at": nullable(TIME)}, ["id", "name", "created_at", "expires_at", "last_used_at"]),
    "TokenList": items_of("Token"),
    "Revoked": obj({"revoked": {"type": "array", "items": INT}}, ["revoked"]),
    # -- Logger --
    "LoggerEvent": obj(_EVENT_FIELDS, ["uuid", "at"]),
    "LoggerBatch": obj({"events": {"type": "array", "minItems": 1, "maxItems": 500, "items": ref("LoggerEvent")}}, ["events"]),
    "EventResult": obj({"uuid": STR, "session_id": nullable(INT), "status": nullable(STR), "duplicate": BOOL,
                        "corrected": BOOL}, ["uuid"]),
    "BatchResult": obj({"results": {"type": "array", "items": {"anyOf": [ref("EventResult"), ref("Error")]}},
                        "stored": INT, "refused": INT}, ["results"]),
    "Heartbeat": obj({"instrument": STR, "server_time": TIME}, ["instrument", "server_time"]),
    "Reservations": obj({
        "instrument": STR, "timezone": nullable(STR),
        "reservations": {"type": "array", "items": obj({
            "id": INT, "source": STR, "status": STR, "start": nullable(TIME), "end": nullable(TIME),
            "user": nullable(STR), "project": nullable(STR), "title": nullable(STR)}, ["id", "start", "end"])},
        "users": {"type": "array", "items": obj({"username": STR, "display_name": nullable(STR),
                                                 "projects": {"type": "array", "items": STR}}, ["username"])},
        "projects": {"type": "array", "items": STR},
    }, ["instrument", "reservations"]),
    "LoggerFiles": obj({"since": TIME, "count": INT, "newest": nullable(obj({"relpath": STR, "mtime": TIME}, ["relpath", "mtime"]))},
                       ["since", "count", "newest"]),
    # -- records --
    "RecordSummary": obj({
        "id": INT, "title": nullable(STR), "start": nullable(TIME), "end": nullable(TIME), "instrument": STR,
        "owner": nullable(STR), "group": nullable(STR), "is_public": BOOL, "embargo_until": nullable(TIME),
        "n_datasets": nullable(INT), "built_at": nullable(TIME),
    }, ["id", "title", "start", "end", "instrument", "owner", "group", "is_public", "embargo_until"]),
    "RecordPage": obj({"items": {"type": "array", "items": ref("RecordSummary")}, "next_cursor": nullable(STR),
                       "total": INT}, ["items", "next_cursor"]),
    "Facets": obj({"total": INT, "facets": {"type": "object", "additionalProperties": {"type": "array", "items": obj(
        {"value": {"type": ["string", "integer", "null"]}, "count": INT}, ["value", "count"])}}}, ["total", "facets"]),
    "Record": obj({
        "schema": {"const": "nxhub-record/1"}, "id": INT, "pid": STR, "session_id": nullable(INT), "title": nullable(STR),
        "start": nullable(TIME), "end": nullable(TIME), "built_at": nullable(TIME), "updated_at": nullable(TIME),
        "instrument": obj({"id": INT, "name": STR, "display_name": nullable(STR), "location": nullable(STR),
                           "timezone": nullable(STR)}, ["id", "name"]),
        "access": ref("Access"), "header": OBJ, "n_datasets": nullable(INT), "warnings": {"type": "array", "items": STR},
        "activities": {"type": "array", "items": obj({
            "seq": INT, "start": nullable(TIME), "end": nullable(TIME), "setup": OBJ,
            "datasets": {"type": "array", "items": obj({
                **_DATASET_CORE, "file_mtime": nullable({"type": "number"}), "unique_metadata": OBJ, "preview": nullable(STR),
                "sha256": nullable(STR)}, ["id", "relpath"])},
        }, ["seq", "datasets"])},
        "fixity": {"type": "array", "description": "admins only: datasets whose file failed its latest fixity check",
                   "items": obj({"dataset": INT, "relpath": STR, "outcome": STR, "detail": STR, "checked_at": TIME},
                                ["dataset", "relpath", "outcome", "checked_at"])},
    }, ["schema", "id", "pid", "title", "instrument", "access", "header", "activities"]),
    "Dataset": obj({**_DATASET_CORE, "record_id": INT, "has_preview": BOOL}, ["id", "record_id", "relpath", "metadata"]),
    "RecordOutline": obj({
        "id": INT, "title": nullable(STR), "start": nullable(TIME), "end": nullable(TIME), "built_at": nullable(TIME),
        "n_datasets": nullable(INT), "warnings": {"type": "array", "items": STR}, "instrument": OBJ, "access": ref("Access"),
        "activities": {"type": "array", "items": OBJ},
    }, ["id", "title", "instrument", "access", "activities"]),
    "DatasetPage": obj({"total": INT, "offset": INT, "items": {"type": "array", "items": obj({"id": INT}, ["id"])}},
                       ["total", "offset", "items"]),
    "AdminStats": obj({"weeks": {"type": "array", "items": STR}, "instruments": OBJ, "status": OBJ,
                       "failed": {"type": "array", "items": OBJ}}, ["weeks", "instruments", "status", "failed"]),

    # -- admin --
    "Instrument": obj({"id": INT, "name": STR, "display_name": nullable(STR), "location": nullable(STR), "timezone": STR,
                       "filestore_root": nullable(STR), "harvester": STR, "has_token": BOOL}, ["id", "name", "timezone"]),
    "InstrumentCreate": obj({
        "name": NAME, "timezone": STR, "location": nullable(STR), "display_name": nullable(STR),
        "filestore_root": nullable({**STR, "description": "Absolute path under one of the settings' files.allowed_roots, or a bucket URL (s3://bucket/prefix, gs://, az://) that can be listed now"}),
        "harvester": {"enum": ["none", "nemo", "ical"]}, "harvester_settings": nullable(OBJ),
    }, ["name"], strict=True),
    "InstrumentEdit": obj({
        "name": NAME, "timezone": STR, "location": nullable(STR), "display_name": nullable(STR),
        "filestore_root": nullable(STR), "harvester": {"enum": ["none", "nemo", "ical"]}, "harvester_settings": nullable(OBJ),
    }, strict=True),
    "User": obj({"id": INT, "username": STR, "display_name": nullable(STR), "email": nullable(STR), "is_admin": BOOL,
                 "groups": {"type": "array", "items": STR}, "external_ids": nullable(OBJ)}, ["id", "username", "is_admin"]),
    "UserCreate": obj({"username": {"type": "string", "minLength": 1, "maxLength": 150}, "display_name": nullable(STR),
                       "email": nullable({"type": "string", "maxLength": 320}), "is_admin": BOOL}, ["username"], strict=True),
    "UserEdit": obj({"display_name": nullable(STR), "email": nullable({"type": "string", "maxLength": 320}), "is_admin": BOOL},
                    strict=True),
    "Group": obj({"id": INT, "name": STR, "description": nullable(STR), "members": {"type": "array", "items": STR}},
                 ["id", "name", "members"]),
    "GroupCreate": obj({"name": NAME, "description": nullable(STR)}, ["name"], strict=True),
    "InstrumentList": items_of("Instrument"),
    "UserList": items_of("User"),
    "GroupList": items_of("Group"),
    "Rebuild": obj({"session_id": INT, "status": STR}, ["session_id", "status"]),
    # -- curation and publication (nexuslims_kernel.publish) --
    "CurationChange": obj({
        "title": nullable(STR), "description": nullable(STR), "keywords": {"type": "array", "items": STR},
        "rating": nullable(INT),
        "datasets": {"type": "object", "additionalProperties": obj(
            {"hidden": BOOL, "featured": BOOL, "caption": nullable(STR)}, strict=True)},
    }, strict=True),
    "Curation": obj({
        "record_id": INT, "version": INT, "fields": OBJ, "datasets": OBJ, "doi": nullable(STR),
        "published_version": nullable(INT), "published_at": nullable(TIME), "publish_error": nullable(STR), "changed": BOOL,
    }, ["record_id", "version", "fields", "datasets", "doi"]),
    "VersionList": items_of("Version"),
    "Version": obj({"version": INT, "created_at": TIME, "created_by": STR, "diff": OBJ, "published": BOOL},
                   ["version", "created_at", "created_by", "diff", "published"]),
    "PublishResult": obj({"record_id": INT, "doi": STR, "state": STR, "published_version": INT, "url": STR},
                         ["record_id", "doi", "state", "published_version", "url"]),
    "Access": obj({"owner": nullable(STR), "group": nullable(STR), "is_public": BOOL, "embargo_until": nullable(TIME)},
                  ["owner", "group", "is_public", "embargo_until"]),
    "AccessResult": obj({"id": INT, "owner": nullable(STR), "group": nullable(STR), "is_public": BOOL,
                         "embargo_until": nullable(TIME)}, ["id", "owner", "group", "is_public", "embargo_until"]),
    "AccessChange": obj({"owner": nullable(NAME), "group": nullable(NAME), "is_public": BOOL, "embargo_until": nullable(TIME)},
                        strict=True),
}

# -- checking --------------------------------------------------------------------

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=(ValueError, OverflowError, TypeError))
def _is_time(value: object) -> bool:
    """ISO-8601 (as :meth:`datetime.fromisoformat` reads it) that stays in years 1-9999 when shifted to UTC."""
    if not isinstance(value, str):
        return True
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is not None:
        parsed.astimezone(dt.UTC)
    return True


@FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(uuid.UUID(value))


def components() -> dict[str, Any]:
    return {"components": {"schemas": SCHEMAS}}


@functools.cache
def validator(name: str) -> jsonschema.protocols.Validator:
    """A validator of the named component, resolving ``$ref`` within the document's components."""
    registry = Registry().with_resource("urn:nxhub-api", Resource(components(), specification=DRAFT202012))
    schema = {"$ref": "urn:nxhub-api" + REF + name}
    return jsonschema.Draft202012Validator(schema, registry=registry, format_checker=FORMATS)


def problem(name: str, value: Any) -> str | None:
    """A one-line description of why ``value`` does not fit schema ``name``, naming the field; None if it fits."""
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(value))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown field(s) {', '.join(map(str, unknown))}; allowed: {allowed}"
    if error.validator == "required":
        return error.message.replace(" is a required property", " is required")
    if error.validator == "format":
        return f"{where or 'body'} must be {'an ISO-8601 time between years 1 and 9999 in UTC' if error.validator_value == 'date-time' else 'a ' + error.validator_value}"
    limits = {"maxLength": "at most {} characters", "minLength": "at least {} characters", "maxItems": "at most {} items",
              "minItems": "at least {} items", "maximum": "at most {}", "minimum": "at least {}"}
    if error.validator in limits:  # say the limit, never echo a long value back
        return f"{where or 'body'} must be {limits[error.validator].format(error.validator_value)}"
    message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
    return f"{where or 'body'}: {message}"


def validate_body(name: str, value: Any) -> Any:
    """``value`` if it fits schema ``name``; otherwise ApiError 400 naming the offending field."""
    why = problem(name, value)
    if why is not None:
        raise ApiError(400, f"request body does not match {name}: {why}")
    return value
