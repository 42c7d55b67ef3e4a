"""Record endpoints: list/search with facets, one record, one dataset, exports."""

from __future__ import annotations

import io
from typing import Any

from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.params import bool_arg, int_arg, record_filter, text_arg
from nexuslims_kernel.db import record_query
from nexuslims_kernel.db.acl import get_visible_dataset, get_visible_record
from nexuslims_kernel.records.view import iso


def summary(row: Any) -> dict[str, Any]:
    """One list item from a :data:`record_query.SUMMARY_COLUMNS` row."""
    return {
        "id": row.id,
        "title": row.title,
        "start": iso(row.start),
        "end": iso(row.end),
        "instrument": row.instrument,
        "owner": row.owner,
        "group": row.group,
        "is_public": bool(row.is_public),
        "embargo_until": iso(row.embargo_until),
        "n_datasets": row.n_datasets,
        "built_at": iso(row.built_at),
    }


class RecordsHandler(BaseHandler):
    """GET /records: search, filter, sort, paginate.

    ``total`` (an exact count of every match) costs more than the page itself on
    large catalogues, so it is only computed when asked for with ``count=true``.
    """

    async def get(self) -> None:
        flt = record_filter(self)
        sort = text_arg(self, "sort") or ("relevance" if flt.q else "-start")
        limit = int_arg(self, "limit", 50)
        cursor = text_arg(self, "cursor")
        want_total = bool_arg(self, "count", False)
        self.send_json(await self.run(self._list, flt, sort, limit, cursor, want_total))

    def _list(self, flt: record_query.RecordFilter, sort: str, limit: int, cursor: str | None, want_total: bool) -> dict[str, Any]:
        def read(sess: Any) -> dict[str, Any]:  # page and total are separate statements: a build may land between them
            from nexuslims_kernel.publish.merge import curated_titles

            rows, next_cursor = record_query.page(sess, self.principal, flt, sort=sort, limit=limit, cursor=cursor)
            items = [summary(row) for row in rows]
            titles = curated_titles(sess, [item["id"] for item in items])
            for item in items:  # the curated title wins (publish.merge)
                item["title"] = titles.get(item["id"], item["title"])
            out: dict[str, Any] = {"items": items, "next_cursor": next_cursor}
            if want_total:
                out["total"] = record_query.count(sess, self.principal, flt)
            return out

        return self.ctx.db.read(read)


class FacetsHandler(BaseHandler):
    """GET /records/facets: counts per instrument, owner, dataset type, format."""

    async def get(self) -> None:
        flt = record_filter(self)
        self.send_json(await self.run(self._facets, flt))

    def _facets(self, flt: record_query.RecordFilter) -> dict[str, Any]:
        total, counts = self.ctx.db.read(lambda sess: record_query.facets(sess, self.principal, flt))
        return {"total": total, "facets": counts}


def load_visible_json(handler: BaseHandler, record_id: int) -> dict[str, Any]:
    """The record's full JSON form with its curation laid over it, if the caller may see it (404 otherwise).

    ``?version=N`` gives the record as curated at version N (publish.merge).
    """
    from nexuslims_kernel.publish.merge import curated_json
    from nexuslims_kernel.records import load_record, to_json

    version = int_arg(handler, "version", -1)
    with handler.ctx.db.session() as sess:
        get_visible_record(sess, handler.principal, record_id)
        return curated_json(sess, to_json(load_record(sess, record_id)), None if version < 0 else version)


class RecordHandler(BaseHandler):
    """GET /records/{id}: summary, header, activities and datasets; for admins also failed fixity checks."""

    async def get(self, record_id: str) -> None:
        self.send_json(await self.run(self._get, int(record_id)))

    def _get(self, record_id: int) -> dict[str, Any]:
        out = load_visible_json(self, record_id)
        if self.principal.is_admin:
            from nexuslims_kernel.ops.fixity import record_failures

            out["fixity"] = self.ctx.db.read(lambda sess: record_failures(sess, record_id))
        return out


class DatasetHandler(BaseHandler):
    """GET /datasets/{id}: one dataset with its normalised and raw metadata."""

    async def get(self, dataset_id: str) -> None:
        self.send_json(await self.run(self._get, int(dataset_id)))

    def _get(self, dataset_id: int) -> dict[str, Any]:
        return self.ctx.db.read(lambda sess: self._describe(get_visible_dataset(sess, self.principal, dataset_id)))

    @staticmethod
    def _describe(ds: Any) -> dict[str, Any]:
        return {
            "id": ds.id, "record_id": ds.record_id, "relpath": ds.relpath, "signal_index": ds.signal_index,
            "name": ds.name, "dataset_type": ds.dataset_type, "format": ds.format,
            "acquired_at": iso(ds.acquired_at), "file_size": ds.file_size, "shape": list(ds.shape or []),
            "dtype": ds.dtype, "metadata": ds.meta or {}, "raw_metadata": ds.raw_metadata or {},
            "has_preview": bool(ds.preview_path), "companions": list(ds.companions or []),
            "warnings": list(ds.warnings or []), "error": ds.error,
        }


class ExportHandler(BaseHandler):
    """GET /records/{id}/export/{format}: Nexus XML, JSON or RO-Crate (metadata and previews)."""

    async def get(self, record_id: str, fmt: str) -> None:
        from nexuslims_kernel.records import get_exporter

        spec = get_exporter(fmt)
        data = await self.run(load_visible_json, self, int(record_id))
        buf = io.BytesIO()
        await self.run(lambda: spec.write(data, buf, previews_root=self.ctx.previews_root))
        self.set_header("Content-Type", spec.media_type)
        self.set_header("Content-Disposition", f'attachment; filename="{spec.filename(int(record_id))}"')
        self.finish(buf.getvalue())
