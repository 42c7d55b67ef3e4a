"""How the builder's machine part and the curators' human part meet: on read, never in the builder's rows.

The builder owns ``records``/``activities``/``datasets`` and rewrites them on every
rebuild (keeping record and dataset ids for the same file and signal). Curation lives
in ``record_curation``/``dataset_curation`` (and every version's snapshot in
``record_versions``), which a rebuild never touches. :func:`overlay` lays a curation
snapshot over the record's JSON form (:func:`nexuslims_kernel.records.to_json`):

- ``title``: the curated one if set (the builder's stays in ``curation.built_title``);
- ``curation``: description (Markdown and sanitised HTML), keywords, rating, featured
  dataset ids (featured first), the version shown and the DOI if published;
- hidden datasets are removed from ``activities`` (and ``n_datasets``), so every export
  built from this JSON (XML, JSON, RO-Crate) and every page leaves them out; captions
  are added to the datasets they belong to.

Every reader of a whole record (API record/export, landing page, OAI-PMH, DataCite)
calls :func:`curated_json`, so the rule is in one place.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy.orm import Session

from nexuslims_kernel.publish import curation
from nexuslims_kernel.publish.markdown import to_html


def overlay(data: dict[str, Any], snap: dict[str, Any], version: int, published: dict[str, Any] | None = None) -> dict[str, Any]:
    """``data`` (a record's JSON form) with the curation ``snap`` applied; ``data`` is not changed."""
    out = copy.copy(data)
    fields = snap.get("fields", {})
    flags = {int(k): v for k, v in snap.get("datasets", {}).items()}
    hidden = {i for i, f in flags.items() if f.get("hidden")}
    activities, n = [], 0
    for act in data.get("activities", []):
        shown = []
        for ds in act["datasets"]:
            if ds["id"] in hidden:
                continue
            f = flags.get(ds["id"], {})
            shown.append({**ds, "caption": f.get("caption"), "featured": bool(f.get("featured"))})
        n += len(shown)
        activities.append({**act, "datasets": shown})
    featured = [ds["id"] for act in activities for ds in act["datasets"] if ds["featured"]]
    out["activities"] = activities
    out["n_datasets"] = n
    out["title"] = fields.get("title") or data["title"]
    description = fields.get("description") or ""
    out["curation"] = {
        "version": version,
        "built_title": data["title"],
        "description": description,
        "description_html": to_html(description) if description else "",
        "keywords": list(fields.get("keywords", [])),
        "rating": fields.get("rating"),
        "featured": featured,
        **(published or {"doi": None, "published_version": None, "published_at": None}),
    }
    return out


def published_info(sess: Session, record_id: int) -> dict[str, Any]:
    row = curation.curation_row(sess, record_id)
    if row is None or row.doi_state != "findable":
        return {"doi": None, "published_version": None, "published_at": None}
    return {"doi": row.doi, "published_version": row.published_version,
            "published_at": row.published_at.isoformat() if row.published_at else None}


def curated_json(sess: Session, data: dict[str, Any], version: int | None = None) -> dict[str, Any]:
    """The record's JSON with its current curation (or that of ``version``) laid over it."""
    row = curation.curation_row(sess, data["id"])
    latest = row.version if row else 0
    if version is None or version == latest:
        snap, version = curation.snapshot(sess, data["id"]), latest
    else:
        snap = curation.version_snapshot(sess, data["id"], version)
    return overlay(data, snap, version, published_info(sess, data["id"]))


def curated_titles(sess: Session, record_ids: list[int]) -> dict[int, str]:
    """record id -> curated title, for lists (Browse cards) that show only summaries."""
    from sqlalchemy import select

    from nexuslims_kernel.db.models import RecordCuration

    if not record_ids:
        return {}
    rows = sess.execute(select(RecordCuration.record_id, RecordCuration.fields).where(RecordCuration.record_id.in_(record_ids)))
    return {rid: fields["title"] for rid, fields in rows if (fields or {}).get("title")}
