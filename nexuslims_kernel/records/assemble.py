"""Turn a session plus its extracted datasets into a stored :class:`Record`.

:func:`write_record` runs inside the caller's transaction: if anything fails
before the caller commits, the old record (if any) is untouched. A rebuild
updates the existing row in place, so the record keeps its id (and any access
changes an admin made); its activities are replaced and its datasets keep their
ids for the same file and signal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.clean import db_clean
from nexuslims_kernel.db.models import Activity, Dataset, InstrumentSession, Record, RecordCuration
from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.records.header import build_header
from nexuslims_kernel.records.inputs import DatasetInput
from nexuslims_kernel.records.params import common_parameters, flatten

DATASET_TYPES = frozenset({"Image", "Spectrum", "SpectrumImage", "Diffraction", "Notes", "Misc", "Unknown"})
# Normalised keys whose values are worth finding a record by.
SEARCH_KEYS = (
    "instrument",
    "microscope",
    "operator",
    "detector",
    "signal_type",
    "mode",
    "acceleration_voltage",
    "magnification",
    "elements",
)


def _preview_relpath(preview: str | None, previews_root: Path | None) -> str | None:
    """The preview's path relative to ``previews_root`` (POSIX), or None if it is elsewhere."""
    if not preview:
        return None
    path = Path(preview)
    if not path.is_absolute():
        return path.as_posix()
    if previews_root is None:
        return None
    try:
        return path.resolve().relative_to(previews_root.resolve()).as_posix()
    except ValueError:
        return None


def record_group_id(session: InstrumentSession) -> int | None:
    """A new record's group: its project's, else the session's own choice, else none (owner only).

    Never guessed from the owner's memberships: a user in two labs would have
    one lab's work shown to the other. Admins change it later through the
    record's access settings, and rebuilds keep their change.
    """
    project = session.project
    if project is not None and project.group_id:
        return project.group_id
    return session.group_id


def _squash(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _dataset_name(basename: str, title: str) -> str:
    """The file name, plus the signal's title when it says something the file name does not."""
    stem = basename.rsplit(".", 1)[0]
    if not title or _squash(title) in (_squash(stem), _squash(basename)):
        return basename
    return f"{basename} ({title})"


def _dataset_row(record_id: int, activity_id: int, item: DatasetInput, tz: str, previews_root: Path | None) -> dict[str, Any]:
    """Column values of one dataset row (keys are Dataset attribute names)."""
    res = item.result
    dataset_type = res.dataset_type if res is not None and res.dataset_type in DATASET_TYPES else "Unknown"
    name = _dataset_name(item.basename, res.name if res is not None else "")
    errors = [e for e in (item.file_error, res.error if res else None) if e]
    return dict(
        record_id=record_id,
        activity_id=activity_id,
        file_id=item.file_id,
        relpath=db_clean(item.relpath),
        signal_index=res.index if res is not None else 0,
        name=db_clean(name),
        dataset_type=dataset_type,
        format=db_clean(item.format)[:40] if item.format else None,
        acquired_at=item.acquired_at(tz),
        file_size=item.size,
        file_mtime=item.mtime,
        shape=[int(n) for n in (res.shape if res else [])],
        dtype=db_clean(res.dtype)[:40] if res is not None and res.dtype else None,
        meta=db_clean(res.metadata if res else {}),
        raw_metadata=db_clean(res.raw_metadata if res else {}),
        preview_path=_preview_relpath(res.preview if res else None, previews_root),
        warnings=db_clean(list(res.warnings) if res else []),
        error=db_clean("; ".join(errors)) if errors else None,
        companions=db_clean(list(item.companions)),
    )


def _search_text(header: dict[str, Any], activities: Sequence[Sequence[DatasetInput]]) -> str:
    """Words a user may search the record by, one distinct phrase per line."""
    parts: list[str] = [header["title"], header.get("motivation") or "", header.get("note") or ""]
    for who in header["experimenters"] + header["collaborators"]:
        parts += [who.get("username") or "", who["name"]]
    for sample in header["samples"]:
        parts += [sample.get("name") or "", sample.get("description") or "", " ".join(sample["elements"])]
    inst = header["instrument"]
    parts += [inst["name"], inst["display_name"], inst.get("location") or ""]
    if header["project"]:
        parts += [header["project"]["name"], header["project"].get("title") or ""]
    for items in activities:
        for item in items:
            parts += [item.basename, item.format or ""]
            if item.result is not None:
                parts += [item.result.name, item.result.dataset_type]
            flat = flatten(item.metadata)
            for key, value in flat.items():
                if key.split(".")[0] in SEARCH_KEYS:
                    parts.append(str(value["value"]) if isinstance(value, dict) else str(value))
    seen: dict[str, None] = {}
    for part in parts:
        part = " ".join(str(part).split())
        if part:
            seen.setdefault(part, None)
    return db_clean("\n".join(seen))


def write_record(
    sess: Session,
    session: InstrumentSession,
    activities: list[list[DatasetInput]],
    warnings: list[str],
    previews_root: Path | None = None,
) -> Record:
    """Create or replace the record of ``session`` (inside the caller's transaction).

    ``activities`` are the session's datasets already split into acquisition
    activities (empty activities are dropped). Preview paths are stored
    relative to ``previews_root`` (default: ``settings.previews_path``).
    """
    if session.id is None:
        raise InvalidInputError("write_record needs a session that is already in the database")
    if previews_root is None:
        from nexuslims_kernel.config import get_settings

        previews_root = get_settings().previews_path
    instrument, person, project = session.instrument, session.person, session.project
    tz = instrument.timezone or "UTC"
    activities = [list(a) for a in activities if a]
    header = db_clean(build_header(session, instrument, person, project))
    times = [t for items in activities for t in (i.acquired_at(tz) for i in items) if t is not None]
    record = sess.scalar(select(Record).where(Record.session_id == session.id).with_for_update())
    now = utcnow()
    if record is None:
        record = Record(session_id=session.id, owner_id=session.person_id, group_id=record_group_id(session),
                        is_public=False, created_at=now)
        sess.add(record)
    old_activities = [] if record.id is None else list(sess.scalars(select(Activity.id).where(Activity.record_id == record.id)))
    record.instrument_id = instrument.id
    record.title = header["title"]
    record.start = session.start or (min(times) if times else None)
    record.end = session.end or (max(times) if times else None)
    record.header = header
    record.warnings = db_clean([str(w) for w in warnings])
    record.n_datasets = sum(len(items) for items in activities)
    record.search_text = _search_text(header, activities)
    curated = None if record.id is None else sess.scalar(
        select(RecordCuration.search_suffix).where(RecordCuration.record_id == record.id))
    if curated:  # what people added stays findable (nexuslims_kernel.publish.curation.search_suffix)
        record.search_text += "\n" + curated
    record.built_at = now
    record.updated_at = now
    sess.flush()
    latest = dt.datetime.max.replace(tzinfo=dt.UTC)
    groups = sorted(activities, key=lambda a: _activity_key(a, tz))
    rows_by_activity = []
    for seq, items in enumerate(groups, start=1):
        stamps = [t for t in (i.acquired_at(tz) for i in items) if t is not None]
        activity = Activity(
            record_id=record.id,
            seq=seq,
            start=min(stamps) if stamps else None,
            end=max(stamps) if stamps else None,
            setup=db_clean(common_parameters(i.metadata for i in items)),
        )
        ordered = sorted(items, key=lambda i: (i.acquired_at(tz) or latest, i.relpath, i.result.index if i.result else 0))
        rows_by_activity.append((activity, ordered))
    sess.add_all([activity for activity, _ in rows_by_activity])
    sess.flush()
    rows = [_dataset_row(record.id, act.id, item, tz, previews_root) for act, items in rows_by_activity for item in items]
    _replace_datasets(sess, record.id, rows)
    if old_activities:  # emptied by _replace_datasets: their datasets moved to the new activities
        sess.execute(delete(Activity).where(Activity.id.in_(old_activities)))
    sess.expire(record, ["activities", "datasets"])
    sess.flush()
    from nexuslims_kernel.db import record_facets  # per-record dataset types/formats for facets (API)

    record_facets.refresh(sess, [record.id])
    sess.expire(record, ["activities", "datasets"])
    return record


def _replace_datasets(sess: Session, record_id: int, rows: list[dict[str, Any]]) -> None:
    """Write the record's datasets, keeping the id of every (file, signal) it already had.

    Saved links and notebooks name datasets by id, so a rebuild updates those rows
    in place, deletes the ones whose file or signal is gone and inserts the new ones.
    """
    existing = {(relpath, index): ds_id for ds_id, relpath, index in sess.execute(
        select(Dataset.id, Dataset.relpath, Dataset.signal_index).where(Dataset.record_id == record_id))}
    updates, inserts = [], []
    for row in rows:
        ds_id = existing.pop((row["relpath"], row["signal_index"]), None)
        (updates if ds_id is not None else inserts).append(row if ds_id is None else {"id": ds_id, **row})
    if updates:  # executemany of UPDATE ... WHERE id = ?
        sess.execute(update(Dataset), updates)
    if inserts:  # one executemany, in acquisition order, so new dataset ids follow it
        sess.execute(insert(Dataset), inserts)
    if existing:  # after the inserts, so a new dataset never takes a gone one's id
        sess.execute(delete(Dataset).where(Dataset.id.in_(list(existing.values()))))


def _activity_key(items: Sequence[DatasetInput], tz: str) -> tuple[dt.datetime, str]:
    stamps = [t for t in (i.acquired_at(tz) for i in items) if t is not None]
    return (min(stamps) if stamps else dt.datetime.max.replace(tzinfo=dt.UTC), min(i.relpath for i in items))
