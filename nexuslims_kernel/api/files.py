"""File endpoints: one file (with HTTP Range) and previews. Zips of records are in :mod:`.zips`."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

from sqlalchemy import select

from nexuslims_kernel.api import sendfile
from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.api.paths import parse_range, resolve_under
from nexuslims_kernel.db.acl import get_visible_dataset, get_visible_record, shown_clause
from nexuslims_kernel.db.models import Dataset, Instrument, Record
from nexuslims_kernel.errors import NotFoundError

CHUNK = 1 << 20
PREVIEW_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif"}


_NOT_PLAIN = re.compile(r'[^\x20-\x7e]|["\\%;]')


def disposition(kind: str, name: str) -> str:
    """``Content-Disposition`` for any file name (RFC 6266): an ASCII fallback plus the exact name, encoded.

    Control characters, quotes and non-ASCII become ``_`` in ``filename=``;
    ``filename*=UTF-8''...`` carries every character percent-encoded, so a name
    with a newline still downloads under its own name.
    """
    fallback = _NOT_PLAIN.sub("_", name).strip() or "download"
    exact = urllib.parse.quote(name.encode("utf-8", "surrogateescape"), safe="")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{exact}"


class FileStreamMixin(BaseHandler):
    """Send one file, honouring a single Range; HEAD answers the same headers without the body."""

    async def head(self, *args: str) -> None:
        await self.get(*args)

    async def send_file(self, path: Path, content_type: str, disposition: str) -> None:
        size = path.stat().st_size
        try:
            wanted = parse_range(self.request.headers.get("Range"), size)
        except ValueError:
            raise ApiError(416, "requested range not satisfiable", {"Content-Range": f"bytes */{size}"}) from None
        first, last = wanted if wanted else (0, size - 1)
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Disposition", disposition)
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Cache-Control", "private, max-age=0")
        if wanted:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.set_header("Content-Length", str(max(0, last - first + 1)))
        if self.request.method == "HEAD":
            self.finish()
            return
        sock = sendfile.plain_socket(self)
        if sock is not None:
            await self.flush()  # headers out, tornado's buffer empty: the kernel sends the bytes
            await sendfile.send_span(self, sock, path, first, last - first + 1)
            self.finish()
            return
        with open(path, "rb") as fh:
            fh.seek(first)
            remaining = last - first + 1
            while remaining > 0:
                chunk = await self.run(fh.read, min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                self.write(chunk)
                await self.flush()
        self.finish()


class DatasetFileHandler(FileStreamMixin):
    """GET /datasets/{id}/file: the dataset's original file."""

    async def get(self, dataset_id: str) -> None:
        path = await self.run(self._locate, int(dataset_id))
        await self.send_file(path, "application/octet-stream", disposition("attachment", path.name))

    def _locate(self, dataset_id: int) -> Path:
        with self.ctx.db.session() as sess:
            ds = get_visible_dataset(sess, self.principal, dataset_id)
            root = sess.scalar(
                select(Instrument.filestore_root).join(Record, Record.instrument_id == Instrument.id).where(Record.id == ds.record_id)
            )
            return resolve_under(root, ds.relpath)


class RecordFileHandler(FileStreamMixin):
    """GET /records/{id}/files/{relpath}: a file (or companion) belonging to the record."""

    async def get(self, record_id: str, relpath: str) -> None:
        # tornado has decoded the path once already: "%2541" is the file named "%41"
        path = await self.run(self._locate, int(record_id), relpath)
        await self.send_file(path, "application/octet-stream", disposition("attachment", path.name))

    def _locate(self, record_id: int, relpath: str) -> Path:
        with self.ctx.db.session() as sess:
            record = get_visible_record(sess, self.principal, record_id)
            shown = sess.execute(select(Dataset.relpath, Dataset.companions).where(Dataset.record_id == record.id, shown_clause()))
            known = {rel for relpath, companions in shown for rel in [relpath, *(companions or [])]}
            if relpath not in known:
                raise NotFoundError("file not found in this record")
            return resolve_under(record.instrument.filestore_root, relpath)


class PreviewHandler(FileStreamMixin):
    """GET /datasets/{id}/preview: the precomputed thumbnail."""

    async def get(self, dataset_id: str) -> None:
        path = await self.run(self._locate, int(dataset_id))
        kind = PREVIEW_TYPES.get(path.suffix.lower(), "application/octet-stream")
        self.set_header("Cache-Control", "private, max-age=3600")
        await self.send_file(path, kind, disposition("inline", path.name))

    def _locate(self, dataset_id: int) -> Path:
        with self.ctx.db.session() as sess:
            ds = get_visible_dataset(sess, self.principal, dataset_id)
            return resolve_under(self.ctx.previews_root, ds.preview_path)
