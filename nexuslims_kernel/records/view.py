"""Read a stored record whole, and its JSON form, which every exporter starts from.

The JSON form (``to_json``) is the record's complete, stable public shape
(``"schema": "nxhub-record/1"``):

- ``id``, ``pid``, ``session_id``, ``title``, ``start``, ``end``, ``built_at``,
  ``updated_at`` (ISO-8601 UTC strings), ``n_datasets``, ``warnings``;
- ``instrument``: ``{"id", "name", "display_name", "location", "timezone"}``;
- ``access``: ``{"owner", "group", "is_public", "embargo_until"}`` (names, not ids);
- ``header``: see :mod:`nexuslims_kernel.records.header`;
- ``activities``: ``[{"seq", "start", "end", "setup", "datasets"}]`` where
  ``setup`` holds the flat parameters all the activity's datasets share and each
  dataset is ``{"id", "relpath", "signal_index", "name", "dataset_type", "format",
  "acquired_at", "file_size", "file_mtime", "shape", "dtype", "metadata"
  (normalised, complete), "unique_metadata" (flat, minus the setup),
  "raw_metadata", "preview" (relative to the previews root), "companions",
  "warnings", "error", "sha256"}``; ``sha256`` is the file's checksum recorded by
  the build worker (None if not recorded or the file changed since);
  ``glossary_terms`` lists the normalised fields that have an EM Glossary term as
  schema.org ``PropertyValue`` dicts (``propertyID`` = the term's IRI).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from nexuslims_kernel.db.models import Activity, Dataset, Record
from nexuslims_kernel.errors import NotFoundError
from nexuslims_kernel.extract.emglossary import glossary_properties
from nexuslims_kernel.files.lookup import indexed_by_relpath
from nexuslims_kernel.records.params import unique_parameters

SCHEMA = "nxhub-record/1"
PID_PREFIX = "nxhub-record-"


def load_record(sess: Session, record_id: int) -> Record:
    """The record with everything an export needs loaded, usable after the session closes."""
    record = sess.scalar(
        select(Record)
        .where(Record.id == record_id)
        .options(
            selectinload(Record.activities).selectinload(Activity.datasets),
            selectinload(Record.datasets),
            selectinload(Record.instrument),
            selectinload(Record.owner),
            selectinload(Record.group),
        )
    )
    if record is None:
        raise NotFoundError(f"record {record_id} does not exist")
    record.file_sha256 = _checksums(sess, record)  # not a column: what the file index holds for these files now
    return record


def _checksums(sess: Session, record: Record) -> dict[str, str]:
    """relpath -> sha256 of the record's data files, where the index has one for the file as the record saw it."""
    sizes = {ds.relpath: ds.file_size for ds in record.datasets}
    rows = indexed_by_relpath(sess, record.instrument_id, list(sizes))
    return {rel: f.sha256 for rel, f in rows.items() if f.sha256 is not None and sizes[rel] in (None, f.size)}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dataset(ds: Dataset, setup: dict[str, Any], sums: dict[str, str]) -> dict[str, Any]:
    return {
        "id": ds.id,
        "relpath": ds.relpath,
        "signal_index": ds.signal_index,
        "name": ds.name,
        "dataset_type": ds.dataset_type,
        "format": ds.format,
        "acquired_at": _iso(ds.acquired_at),
        "file_size": ds.file_size,
        "file_mtime": ds.file_mtime,
        "shape": list(ds.shape or []),
        "dtype": ds.dtype,
        "metadata": ds.meta or {},
        "unique_metadata": unique_parameters(ds.meta or {}, setup),
        "raw_metadata": ds.raw_metadata or {},
        "preview": ds.preview_path,
        "companions": list(ds.companions or []),
        "warnings": list(ds.warnings or []),
        "error": ds.error,
        "sha256": sums.get(ds.relpath),
        "glossary_terms": glossary_properties(ds.meta or {}),
    }


def to_json(record: Record) -> dict[str, Any]:
    """The complete record as a JSON-ready dict (keys documented in this module)."""
    sums = getattr(record, "file_sha256", None) or {}
    activities = []
    for act in record.activities:
        setup = dict(sorted((act.setup or {}).items()))
        datasets = sorted(act.datasets, key=lambda d: d.id)
        activities.append(
            {
                "seq": act.seq,
                "start": _iso(act.start),
                "end": _iso(act.end),
                "setup": setup,
                "datasets": [_dataset(d, setup, sums) for d in datasets],
            }
        )
    loose = [d for d in record.datasets if d.activity_id is None]
    if loose:  # datasets not in any activity (not written by write_record) still get exported
        activities.append(
            {"seq": len(activities) + 1, "start": None, "end": None, "setup": {}, "datasets": [_dataset(d, {}, sums) for d in loose]}
        )
    inst = record.instrument
    return {
        "schema": SCHEMA,
        "id": record.id,
        "pid": f"{PID_PREFIX}{record.id}",
        "session_id": record.session_id,
        "title": record.title,
        "start": _iso(record.start),
        "end": _iso(record.end),
        "built_at": _iso(record.built_at),
        "updated_at": _iso(record.updated_at),
        "instrument": {
            "id": inst.id,
            "name": inst.name,
            "display_name": inst.display_name or inst.name,
            "location": inst.location,
            "timezone": inst.timezone,
        },
        "access": {
            "owner": record.owner.username if record.owner else None,
            "group": record.group.name if record.group else None,
            "is_public": bool(record.is_public),
            "embargo_until": _iso(record.embargo_until),
        },
        "header": dict(record.header or {}),
        "n_datasets": record.n_datasets,
        "warnings": list(record.warnings or []),
        "activities": activities,
    }
