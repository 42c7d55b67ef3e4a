"""The record's complete JSON form (keys documented in :mod:`nexuslims_kernel.records.view`)."""

from __future__ import annotations

import json
from typing import IO, Any

from nexuslims_kernel.records.exporters.spec import ExporterSpec, as_json


def to_json_bytes(record: Any) -> bytes:
    """UTF-8 JSON of the record, keys sorted (the same bytes on every backend), non-ASCII kept."""
    return json.dumps(as_json(record), ensure_ascii=False, indent=2, allow_nan=False, sort_keys=True).encode("utf-8") + b"\n"


def write(record: Any, fileobj: IO[bytes], **_options: Any) -> None:
    fileobj.write(to_json_bytes(record))


SPEC = ExporterSpec(
    name="json",
    description="The complete record as JSON (schema nxhub-record/1)",
    media_type="application/json",
    extension="json",
    write=write,
)
