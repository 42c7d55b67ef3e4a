"""File endpoints: one file (with HTTP Range) and previews. Zips of records are in :mod:`.zips`."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Any

from sqlalchemy import select

from nexuslims_kernel.api import sendfile
from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.api.paths import parse_range, resolve_under
from nexuslims_kernel.db.acl import get_visible_dataset, get_visible_record, shown_clause
from nexuslims_kernel.db.models import Dataset, Instrument, Record
from nexuslims_kernel.errors import NotFoundError
from nexuslims_kernel.stores import ObjectInfo, Store, check_key, is_store_url, parse_store_url
from nexuslims_kernel.stores.base import shared_store

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

    def _start(self, size: int, content_type: str, disposition: str) -> tuple[int, int] | None:
        """Headers for a file of ``size`` bytes and the (first, last) span to send; None for HEAD."""
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
            return None
        return first, last

    async def send_file(self, path: Path, content_type: str, disposition: str) -> None:
        span = self._start(path.stat().st_size, content_type, disposition)
        if span is None:
            return
        first, last = span
        sock = sendfile.plain_socket(self)
        if sock is not None:
            await self.flush()  # headers out, tornado's buffer empty: the kernel sends the bytes
            await sendfile.send_span(self, sock, path, first, last - first + 1)
            self.finish()
            return
        with open(path, "rb") as fh:
            await self._stream(fh, first, last)

    async def send_object(self, store: Store, info: ObjectInfo, content_type: str, disposition: str) -> None:
        """Stream an object of a bucket store (ranged reads, one block in memory), with the same headers as a file."""
        span = self._start(info.size, content_type, disposition)
        if span is None:
            return
        fh = await self.run(store.open, info.key)
        try:
            await self._stream(fh, *span)
        finally:
            await self.run(fh.close)

    async def _stream(self, fh: Any, first: int, last: int) -> None:
        await self.run(fh.seek, first)
        remaining = last - first + 1
        while remaining > 0:
            chunk = await self.run(fh.read, min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            self.write(chunk)
            await self.flush()
        self.finish()

    async def send_stored(self, found: Path | tuple[Store, ObjectInfo], content_type: str, disposition_kind: str) -> None:
        """Send what :func:`locate` found: a local file or an object."""
        if isinstance(found, Path):
            await self.send_file(found, content_type, disposition(disposition_kind, found.name))
        else:
            store, info = found
            await self.send_object(store, info, content_type, disposition(disposition_kind, info.key.rsplit("/", 1)[-1]))


def bucket_store(root: str | None) -> Store | None:
    """The store of ``root`` when it is a bucket (this process's shared client), else None."""
    if root and is_store_url(root) and parse_store_url(root).is_object:
        return shared_store(root)
    return None


def locate(root: str | None, relpath: str | None) -> Path | tuple[Store, ObjectInfo]:
    """``relpath`` inside an instrument's store: a real path under a folder, or an object of a bucket.

    Called after the ACL check, outside any DB session (a bucket answers over the network).
    """
    store = bucket_store(root)
    if store is not None:
        if not relpath:
            raise NotFoundError("file not found")
        return store, store.info(check_key(relpath))
    return resolve_under(root, relpath)


class DatasetFileHandler(FileStreamMixin):
    """GET /datasets/{id}/file: the dataset's original file."""

    async def get(self, dataset_id: str) -> None:
        found = await self.run(self._locate, int(dataset_id))
        await self.send_stored(found, "application/octet-stream", "attachment")

    def _locate(self, dataset_id: int) -> Path | tuple[Store, ObjectInfo]:
        with self.ctx.db.session() as sess:
            ds = get_visible_dataset(sess, self.principal, dataset_id)
            root = sess.scalar(
                select(Instrument.filestore_root).join(Record, Record.instrument_id == Instrument.id).where(Record.id == ds.record_id)
            )
            relpath = ds.relpath
        return locate(root, relpath)


class RecordFileHandler(FileStreamMixin):
    """GET /records/{id}/files/{relpath}: a file (or companion) belonging to the record."""

    async def get(self, record_id: str, relpath: str) -> None:
        # tornado has decoded the path once already: "%2541" is the file named "%41"
        found = await self.run(self._locate, int(record_id), relpath)
        await self.send_stored(found, "application/octet-stream", "attachment")

    def _locate(self, record_id: int, relpath: str) -> Path | tuple[Store, ObjectInfo]:
        with self.ctx.db.session() as sess:
            record = get_visible_record(sess, self.principal, record_id)
            shown = sess.execute(select(Dataset.relpath, Dataset.companions).where(Dataset.record_id == record.id, shown_clause()))
            known = {rel for relpath, companions in shown for rel in [relpath, *(companions or [])]}
            if relpath not in known:
                raise NotFoundError("file not found in this record")
            root = record.instrument.filestore_root
        return locate(root, relpath)


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
