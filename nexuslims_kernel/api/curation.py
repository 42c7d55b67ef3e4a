"""Curation endpoints: read and change a record's human part, list and read its versions, publish it.

Who may do what is decided in :mod:`nexuslims_kernel.publish.curation` (owner and
admins curate, only the owner rates); a record the caller cannot see is a 404, one
they can see but not curate is a 403.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.db.acl import get_visible_record
from nexuslims_kernel.publish import curation
from nexuslims_kernel.publish.merge import published_info


def service_root(handler: BaseHandler) -> str:
    """Where this service is reached from outside: the hub's public URL when set, else the request's own host.

    DOIs point here unless ``publish.landing_url`` says otherwise, so a configured
    URL wins over whatever Host header a request carried.
    """
    settings = handler.ctx.settings
    origin = settings.hub.public_url.rstrip("/") if settings.hub.public_url else f"{handler.request.protocol}://{handler.request.host}"
    return origin + settings.api.base_path.rstrip("/")


def curation_state(sess: Session, record_id: int) -> dict[str, Any]:
    row = curation.curation_row(sess, record_id)
    out = {"record_id": record_id, "version": row.version if row else 0, **curation.snapshot(sess, record_id),
           **published_info(sess, record_id)}
    out["publish_error"] = row.publish_error if row else None
    return out


class CurationHandler(BaseHandler):
    """GET /records/{id}/curation (curators: hidden datasets included); PATCH it to change the record."""

    def _tx(self, fn: Any) -> Any:
        from sqlalchemy.exc import IntegrityError

        from nexuslims_kernel.errors import ConcurrentUpdateError

        try:
            with self.ctx.db.session(write=True) as sess:
                return fn(sess)
        except IntegrityError:  # two first changes of one record at once: the other one won
            raise ConcurrentUpdateError("the record was curated by someone else at the same moment; try again") from None

    async def get(self, record_id: str) -> None:
        def read(sess: Session) -> dict[str, Any]:
            curation.curatable_record(sess, self.principal, int(record_id))
            return curation_state(sess, int(record_id))

        self.send_json(await self.run(self.ctx.db.read, read))

    async def patch(self, record_id: str) -> None:
        body = self.valid_body("CurationChange")

        def write(sess: Session) -> dict[str, Any]:
            result = curation.change(sess, self.principal, int(record_id), body)
            return {**curation_state(sess, int(record_id)), "changed": result["changed"]}

        self.send_json(await self.run(self._tx, write))


class VersionsHandler(BaseHandler):
    """GET /records/{id}/versions: who changed what and when, newest first."""

    async def get(self, record_id: str) -> None:
        items = await self.run(self.ctx.db.read, lambda sess: curation.versions(sess, self.principal, int(record_id)))
        self.send_json({"items": items})


class VersionHandler(BaseHandler):
    """GET /records/{id}/versions/{n}: the whole record as curated at version n (0 = as built)."""

    async def get(self, record_id: str, version: str) -> None:
        from nexuslims_kernel.publish.merge import curated_json
        from nexuslims_kernel.records import load_record, to_json

        def read() -> dict[str, Any]:
            with self.ctx.db.session() as sess:
                get_visible_record(sess, self.principal, int(record_id))
                return curated_json(sess, to_json(load_record(sess, int(record_id))), int(version))

        self.send_json(await self.run(read))


class PublishHandler(BaseHandler):
    """POST /records/{id}/publish: mint the record's DOI with DataCite (owner or admin, public records only)."""

    async def post(self, record_id: str) -> None:
        from nexuslims_kernel.publish.release import publish_record

        self.send_json(await self.run(publish_record, self.ctx.db, self.ctx.settings, self.principal, int(record_id),
                                      service_root(self)))


class LandingHandler(BaseHandler):
    """GET /records/{id} outside /api/v1: the record's landing page (HTML, no JavaScript), 404 when not visible."""

    PAGE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'"

    async def get(self, record_id: str) -> None:
        from nexuslims_kernel.publish import datacite, landing
        from nexuslims_kernel.publish.merge import curated_json
        from nexuslims_kernel.records import load_record, to_json

        root = service_root(self)
        api = f"{root}/api/v1"
        url = datacite.landing_url(self.ctx.settings, int(record_id), root)

        def read() -> str:
            with self.ctx.db.session() as sess:
                get_visible_record(sess, self.principal, int(record_id))
                data = curated_json(sess, to_json(load_record(sess, int(record_id))))
                return landing.render(data, self.ctx.settings, url, api, curation.versions(sess, self.principal, int(record_id)))

        page = await self.run(read)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", self.PAGE_CSP)
        self.set_header("Cache-Control", "no-cache")
        self.finish(page)
