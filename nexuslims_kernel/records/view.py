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
from collections.abc import Iterable
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
    record.file_sha256 = checksums(sess, record.instrument_id, record.datasets)  # not a column: what the index holds now
    return record


def checksums(sess: Session, instrument_id: int, datasets: Iterable[Dataset]) -> dict[str, str]:
    """relpath -> sha256 of these datasets' files, where the index has one for the file as the record saw it."""
    sizes = {ds.relpath: ds.file_size for ds in datasets}
    rows = indexed_by_relpath(sess, instrument_id, sorted(sizes))
    return {rel: f.sha256 for rel, f in rows.items() if f.sha256 is not None and sizes[rel] in (None, f.size)}


def iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def dataset_summary(ds: Dataset, sums: dict[str, str]) -> dict[str, Any]:
    """A dataset without its metadata trees: what a gallery page needs (``GET /records/{id}/datasets``)."""
    return {
        "id": ds.id,
        "relpath": ds.relpath,
        "signal_index": ds.signal_index,
        "name": ds.name,
        "dataset_type": ds.dataset_type,
        "format": ds.format,
        "acquired_at": iso(ds.acquired_at),
        "file_size": ds.file_size,
        "file_mtime": ds.file_mtime,
        "shape": list(ds.shape or []),
        "dtype": ds.dtype,
        "companions": list(ds.companions or []),
        "error": ds.error,
        "sha256": sums.get(ds.relpath),
    }


def _dataset(ds: Dataset, setup: dict[str, Any], sums: dict[str, str]) -> dict[str, Any]:
    return {
        **dataset_summary(ds, sums),
        "metadata": ds.meta or {},
        "unique_metadata": unique_parameters(ds.meta or {}, setup),
        "raw_metadata": ds.raw_metadata or {},
        "preview": ds.preview_path,
        "warnings": list(ds.warnings or []),
        "glossary_terms": glossary_properties(ds.meta or {}),
    }


def instrument_json(inst: Any) -> dict[str, Any]:
    return {"id": inst.id, "name": inst.name, "display_name": inst.display_name or inst.name, "location": inst.location,
            "timezone": inst.timezone}


def access_json(record: Record) -> dict[str, Any]:
    return {"owner": record.owner.username if record.owner else None, "group": record.group.name if record.group else None,
            "is_public": bool(record.is_public), "embargo_until": iso(record.embargo_until)}


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
                "start": iso(act.start),
                "end": iso(act.end),
                "setup": setup,
                "datasets": [_dataset(d, setup, sums) for d in datasets],
            }
        )
    loose = [d for d in record.datasets if d.activity_id is None]
    if loose:  # datasets not in any activity (not written by write_record) still get exported
        activities.append(
            {"seq": len(activities) + 1, "start": None, "end": None, "setup": {}, "datasets": [_dataset(d, {}, sums) for d in loose]}
        )
    return {
        "schema": SCHEMA,
        "id": record.id,
        "pid": f"{PID_PREFIX}{record.id}",
        "session_id": record.session_id,
        "title": record.title,
        "start": iso(record.start),
        "end": iso(record.end),
        "built_at": iso(record.built_at),
        "updated_at": iso(record.updated_at),
        "instrument": instrument_json(record.instrument),
        "access": access_json(record),
        "header": dict(record.header or {}),
        "n_datasets": record.n_datasets,
        "warnings": list(record.warnings or []),
        "activities": activities,
    }
