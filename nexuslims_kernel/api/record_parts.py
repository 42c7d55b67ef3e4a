"""A record in parts, for pages and catalogs that must not fetch a whole 1,000-dataset record at once.

``GET /records/{id}/outline``: the record's header and its activities with
dataset counts, no datasets. ``GET /records/{id}/datasets?activity=&offset=&limit=``:
one page of light dataset summaries (no raw metadata) in acquisition order.
Both go through the same ACL gate as ``GET /records/{id}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.api.files import PreviewHandler
from nexuslims_kernel.api.params import int_arg
from nexuslims_kernel.api.paths import resolve_under
from nexuslims_kernel.db.acl import Principal, get_visible_record, shown_clause
from nexuslims_kernel.db.models import Activity, Dataset, DatasetCuration
from nexuslims_kernel.errors import NotFoundError
from nexuslims_kernel.records.view import access_json, checksums, dataset_summary, instrument_json, iso

MAX_PAGE = 500


def outline(sess: Session, principal: Principal, record_id: int) -> dict[str, Any]:
    """The record without its datasets: what a page shows before any thumbnail."""
    record = get_visible_record(sess, principal, record_id)
    counts = dict(sess.execute(
        select(Dataset.activity_id, func.count()).where(Dataset.record_id == record_id, shown_clause()).group_by(Dataset.activity_id)
    ).all())
    activities = sess.execute(
        select(Activity.id, Activity.seq, Activity.start, Activity.end, Activity.setup).where(Activity.record_id == record_id).order_by(Activity.seq)
    ).all()
    return {
        "id": record.id, "title": record.title, "start": iso(record.start), "end": iso(record.end),
        "built_at": iso(record.built_at), "n_datasets": record.n_datasets, "warnings": list(record.warnings or []),
        "instrument": instrument_json(record.instrument), "access": access_json(record),
        "header": dict(record.header or {}),
        "activities": [{"seq": a.seq, "start": iso(a.start), "end": iso(a.end), "setup": a.setup or {},
                        "n_datasets": counts.get(a.id, 0)} for a in activities],
        "loose_datasets": counts.get(None, 0),
    }


def dataset_page(sess: Session, principal: Principal, record_id: int, seq: int | None, offset: int, limit: int) -> dict[str, Any]:
    """One page of a record's (or one activity's) datasets, light enough for a gallery."""
    record = get_visible_record(sess, principal, record_id)
    stmt = select(Dataset).where(Dataset.record_id == record_id, shown_clause())
    if seq is not None:
        act_id = sess.scalar(select(Activity.id).where(Activity.record_id == record_id, Activity.seq == seq))
        if act_id is None:
            raise ApiError(404, f"record {record_id} has no activity {seq}")
        stmt = stmt.where(Dataset.activity_id == act_id)
    total = sess.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = sess.scalars(stmt.order_by(Dataset.acquired_at, Dataset.id).offset(offset).limit(limit)).all()
    sums = checksums(sess, record.instrument_id, rows)
    items = [{**dataset_summary(ds, sums), "has_preview": bool(ds.preview_path)} for ds in rows]
    return {"total": total, "offset": offset, "items": items}


class OutlineHandler(BaseHandler):
    """GET /records/{id}/outline."""

    async def get(self, record_id: str) -> None:
        self.send_json(await self.run(lambda: self.ctx.db.read(lambda s: outline(s, self.principal, int(record_id)))))


class DatasetPageHandler(BaseHandler):
    """GET /records/{id}/datasets?activity=SEQ&offset=0&limit=50."""

    async def get(self, record_id: str) -> None:
        seq = int_arg(self, "activity", 0) or None
        offset, limit = int_arg(self, "offset", 0), int_arg(self, "limit", 50)
        if offset < 0 or not 1 <= limit <= MAX_PAGE:
            raise ApiError(400, f"offset must be >= 0 and limit between 1 and {MAX_PAGE}")
        self.send_json(await self.run(
            lambda: self.ctx.db.read(lambda s: dataset_page(s, self.principal, int(record_id), seq, offset, limit))))


class RecordPreviewHandler(PreviewHandler):
    """GET /records/{id}/preview: the thumbnail of the record's first featured dataset, else its first one (result lists)."""

    def _locate(self, record_id: int) -> Path:
        with self.ctx.db.session() as sess:
            get_visible_record(sess, self.principal, record_id)
            featured = select(DatasetCuration.dataset_id).where(DatasetCuration.record_id == record_id,
                                                                 DatasetCuration.featured.is_(True))
            rel = sess.scalar(  # a featured dataset's picture is the record's card (publish.curation), else the first
                select(Dataset.preview_path).where(Dataset.record_id == record_id, Dataset.preview_path.is_not(None), shown_clause())
                .order_by(Dataset.id.in_(featured).desc(), Dataset.acquired_at, Dataset.id).limit(1)
            )
            if rel is None:
                raise NotFoundError(f"record {record_id} has no preview")
            return resolve_under(self.ctx.previews_root, rel)
