"""Curation after the fact: who may change a record's human part, the change itself, its versions.

Who may curate (kept simple; the data model has no per-group curator role yet):

- the record's **owner** and **admins** may edit title, description, keywords and
  the per-dataset flags (hidden, featured, caption);
- only the **owner** rates the record (1–5);
- everyone else who can see the record gets 403; who cannot see it gets 404
  (the ACL gate's "not found", so nothing leaks).

Every change that alters something makes a new :class:`RecordVersion` row with the
caller, the time, a JSON diff (``{"field": {"old", "new"}}``) and a snapshot of the
whole curation after the change, so any old version can be shown again. A change
that alters nothing makes no version.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.db.acl import Principal, get_visible_record
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.clean import db_clean
from nexuslims_kernel.db.models import Dataset, DatasetCuration, Record, RecordCuration, RecordVersion
from nexuslims_kernel.errors import InvalidInputError, NotFoundError, NxhubError
from nexuslims_kernel.publish.markdown import MAX_DESCRIPTION

MAX_FEATURED = 6
MAX_TITLE = 500
MAX_KEYWORDS, MAX_KEYWORD = 50, 100
MAX_CAPTION = 2000
FIELDS = ("title", "description", "keywords", "rating")
FLAGS = ("hidden", "featured", "caption")


class ForbiddenError(NxhubError):
    """The caller may see the record but not change it."""

    http_status = 403


def may_curate(principal: Principal, record: Record) -> bool:
    return principal.is_admin or (principal.is_user and principal.person_id is not None and record.owner_id == principal.person_id)


def curatable_record(sess: Session, principal: Principal, record_id: int) -> Record:
    """The record if ``principal`` may curate it: 404 when they cannot see it, 403 when they may only look."""
    record = get_visible_record(sess, principal, record_id)
    if not may_curate(principal, record):
        raise ForbiddenError(f"only the owner or an admin may curate record {record_id}")
    return record


# -- validation: one clear message per bad field --

def _text(value: Any, name: str, limit: int, *, empty_ok: bool) -> str | None:
    if value is None and empty_ok:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string")
    value = db_clean(value).strip()
    if not value and not empty_ok:
        raise InvalidInputError(f"{name} must not be empty")
    if len(value) > limit:
        raise InvalidInputError(f"{name} is longer than {limit} characters")
    return value or None


def _keywords(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise InvalidInputError("keywords must be a list of strings")
    out: dict[str, None] = {}
    for k in value:
        k = " ".join(db_clean(k).split())
        if len(k) > MAX_KEYWORD:
            raise InvalidInputError(f"a keyword is longer than {MAX_KEYWORD} characters")
        if k:
            out.setdefault(k, None)
    if len(out) > MAX_KEYWORDS:
        raise InvalidInputError(f"at most {MAX_KEYWORDS} keywords")
    return list(out)


def _rating(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise InvalidInputError(f"rating must be a whole number from 1 to 5 (or null), not {value!r}")
    return value


def clean_fields(body: dict[str, Any]) -> dict[str, Any]:
    """The record-level fields of a change, validated (keys not given are left out)."""
    out: dict[str, Any] = {}
    if "title" in body:
        out["title"] = _text(body["title"], "title", MAX_TITLE, empty_ok=True)
    if "description" in body:
        out["description"] = _text(body["description"], "description", MAX_DESCRIPTION, empty_ok=True)
    if "keywords" in body:
        out["keywords"] = _keywords(body["keywords"])
    if "rating" in body:
        out["rating"] = _rating(body["rating"])
    return out


def clean_datasets(value: Any) -> dict[int, dict[str, Any]]:
    """``{"<dataset id>": {"hidden": bool, "featured": bool, "caption": str|null}}``, validated."""
    if not isinstance(value, dict):
        raise InvalidInputError('datasets must be an object {"<dataset id>": {"hidden": ..., "featured": ..., "caption": ...}}')
    out: dict[int, dict[str, Any]] = {}
    for key, flags in value.items():
        if not str(key).isdigit():
            raise InvalidInputError(f"datasets: {str(key)[:40]!r} is not a dataset id")
        if not isinstance(flags, dict) or set(flags) - set(FLAGS):
            raise InvalidInputError(f"datasets.{key} may only set {', '.join(FLAGS)}")
        item: dict[str, Any] = {}
        for flag in ("hidden", "featured"):
            if flag in flags:
                if not isinstance(flags[flag], bool):
                    raise InvalidInputError(f"datasets.{key}.{flag} must be true or false")
                item[flag] = flags[flag]
        if "caption" in flags:
            item["caption"] = _text(flags["caption"], f"datasets.{key}.caption", MAX_CAPTION, empty_ok=True)
        out[int(key)] = item
    return out


# -- reading the current state --

def curation_row(sess: Session, record_id: int) -> RecordCuration | None:
    return sess.get(RecordCuration, record_id)


def dataset_flags(sess: Session, record_id: int) -> dict[int, dict[str, Any]]:
    """dataset id -> {"hidden", "featured", "caption"} for the record's curated datasets."""
    rows = sess.scalars(select(DatasetCuration).where(DatasetCuration.record_id == record_id)).all()
    return {r.dataset_id: {"hidden": bool(r.hidden), "featured": bool(r.featured), "caption": r.caption} for r in rows}


def snapshot(sess: Session, record_id: int) -> dict[str, Any]:
    """The whole curation of a record: what a version stores."""
    row = curation_row(sess, record_id)
    flags = {str(k): v for k, v in sorted(dataset_flags(sess, record_id).items()) if any(v.values())}
    return {"fields": dict(row.fields or {}) if row else {}, "datasets": flags}


# -- the change --

def _diff(old: Any, new: Any, path: str, out: dict[str, Any]) -> None:
    if old != new:
        out[path] = {"old": old, "new": new}


def change(sess: Session, principal: Principal, record_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Apply a curation change (inside the caller's transaction); returns the new state and version.

    ``body`` may hold ``title``, ``description`` (Markdown), ``keywords``, ``rating``
    and ``datasets`` (see :func:`clean_datasets`). Nothing is written unless all of it is valid.
    """
    unknown = set(body) - {*FIELDS, "datasets"}
    if unknown:
        raise InvalidInputError(f"cannot curate {', '.join(sorted(unknown))}; allowed: {', '.join((*FIELDS, 'datasets'))}")
    record = curatable_record(sess, principal, record_id)
    fields = clean_fields(body)
    if "rating" in fields and record.owner_id != principal.person_id:
        raise ForbiddenError("only the record's owner rates it")
    datasets = clean_datasets(body.get("datasets", {}))
    mine = set(sess.scalars(select(Dataset.id).where(Dataset.record_id == record_id)))
    stray = sorted(set(datasets) - mine)
    if stray:
        raise InvalidInputError(f"dataset {stray[0]} is not in record {record_id}")
    row = sess.get(RecordCuration, record_id, with_for_update=True)  # one change at a time per record (PostgreSQL)
    if row is None:
        row = RecordCuration(record_id=record_id, fields={}, version=0, updated_at=utcnow())
        sess.add(row)
    diff: dict[str, Any] = {}
    new_fields = dict(row.fields or {})
    for name, value in fields.items():
        _diff(new_fields.get(name), value, name, diff)
        if value in (None, [], ""):
            new_fields.pop(name, None)
        else:
            new_fields[name] = value
    current = dataset_flags(sess, record_id)
    for ds_id, flags in datasets.items():
        old = current.get(ds_id, {"hidden": False, "featured": False, "caption": None})
        new = {**old, **flags}
        for flag in FLAGS:
            _diff(old[flag], new[flag], f"datasets.{ds_id}.{flag}", diff)
        current[ds_id] = new
    featured = sorted(i for i, f in current.items() if f["featured"] and not f["hidden"])
    if len(featured) > MAX_FEATURED:
        raise InvalidInputError(f"at most {MAX_FEATURED} datasets may be featured (this change makes {len(featured)})")
    if not diff:
        return {"version": row.version, "changed": False, **snapshot(sess, record_id)}
    row.fields = new_fields
    for ds_id in datasets:
        cur = sess.get(DatasetCuration, ds_id) or DatasetCuration(dataset_id=ds_id, record_id=record_id)
        cur.hidden, cur.featured, cur.caption = current[ds_id]["hidden"], current[ds_id]["featured"], current[ds_id]["caption"]
        sess.add(cur)
    row.version += 1
    row.updated_at = utcnow()
    _refresh_search(record, row)
    sess.flush()
    state = snapshot(sess, record_id)
    sess.add(RecordVersion(record_id=record_id, version=row.version, created_at=row.updated_at, created_by=principal.label,
                           diff=diff, snapshot=state))
    sess.flush()
    return {"version": row.version, "changed": True, **state}


def search_suffix(fields: dict[str, Any]) -> str:
    """The curated words search should find: title, keywords, description (plain text), one phrase a line."""
    import html

    from nexuslims_kernel.publish.markdown import to_text

    lines = [fields.get("title") or "", *fields.get("keywords", []), html.unescape(to_text(fields.get("description") or ""))]
    return db_clean("\n".join(" ".join(line.split()) for line in lines if line.strip()))


def _refresh_search(record: Record, row: RecordCuration) -> None:
    """Swap the record's previous curated search words for the current ones (the builder's part stays)."""
    text, old = record.search_text or "", row.search_suffix
    if old and text.endswith("\n" + old):
        text = text[: -len(old) - 1]
    new = search_suffix(row.fields or {})
    record.search_text = text + ("\n" + new if new else "")
    row.search_suffix = new or None


def versions(sess: Session, principal: Principal, record_id: int) -> list[dict[str, Any]]:
    """Every version of a record's curation, newest first (anyone who may see the record)."""
    get_visible_record(sess, principal, record_id)
    rows = sess.scalars(select(RecordVersion).where(RecordVersion.record_id == record_id).order_by(RecordVersion.version.desc()))
    row = curation_row(sess, record_id)
    published = row.published_version if row else None
    return [{"version": v.version, "created_at": v.created_at.isoformat(), "created_by": v.created_by.removeprefix("user:"),
             "diff": v.diff, "published": v.version == published} for v in rows]


def version_snapshot(sess: Session, record_id: int, version: int) -> dict[str, Any]:
    """The curation as it was at ``version`` (0 = as built, nothing curated)."""
    if version == 0:
        return {"fields": {}, "datasets": {}}
    snap = sess.scalar(select(RecordVersion.snapshot).where(RecordVersion.record_id == record_id, RecordVersion.version == version))
    if snap is None:
        raise NotFoundError(f"record {record_id} has no version {version}")
    return snap
