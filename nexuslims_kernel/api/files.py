"""File endpoints: one file (with HTTP Range), previews, and whole records as a streamed zip.

Zips are generated on the fly (zipstream-ng) straight into the response, with
no temporary copy; each batch waits for the socket to drain, so memory stays
flat however large the record.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from zipfile import ZIP_STORED

from sqlalchemy import select
from zipstream import ZipStream

from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.api.paths import archive_name, parse_range, resolve_under
from nexuslims_kernel.db.acl import get_visible_dataset, get_visible_record
from nexuslims_kernel.db.models import Activity, Dataset, Instrument, Record
from nexuslims_kernel.errors import NotFoundError

CHUNK = 1 << 20
#: bytes of zip read per thread-pool hop (two batches at most in memory per download)
ZIP_BATCH = 4 << 20
#: batches read ahead of the socket
ZIP_AHEAD = 3
PREVIEW_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif"}


def _take(pieces: Iterator[bytes], limit: int) -> list[bytes]:
    """The next pieces of ``pieces`` adding up to about ``limit`` bytes ([] at the end)."""
    batch: list[bytes] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        size += len(piece)
        if size >= limit:
            break
    return batch


def _disposition(kind: str, name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(name)}"


class FileStreamMixin(BaseHandler):
    """Send one file, honouring a single Range."""

    async def send_file(self, path: Path, content_type: str, disposition: str) -> None:
        size = path.stat().st_size
        try:
            wanted = parse_range(self.request.headers.get("Range"), size)
        except ValueError:
            self.set_header("Content-Range", f"bytes */{size}")
            raise ApiError(416, "requested range not satisfiable") from None
        first, last = wanted if wanted else (0, size - 1)
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Disposition", disposition)
        self.set_header("Accept-Ranges", "bytes")
        self.set_header("Cache-Control", "private, max-age=0")
        if wanted:
            self.set_status(206)
            self.set_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.set_header("Content-Length", str(max(0, last - first + 1)))
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
        await self.send_file(path, "application/octet-stream", _disposition("attachment", path.name))

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
        path = await self.run(self._locate, int(record_id), urllib.parse.unquote(relpath))
        await self.send_file(path, "application/octet-stream", _disposition("attachment", path.name))

    def _locate(self, record_id: int, relpath: str) -> Path:
        with self.ctx.db.session() as sess:
            record = get_visible_record(sess, self.principal, record_id)
            known = {rel for ds in record.datasets for rel in [ds.relpath, *(ds.companions or [])]}
            if relpath not in known:
                raise NotFoundError("file not found in this record")
            return resolve_under(record.instrument.filestore_root, relpath)


class PreviewHandler(FileStreamMixin):
    """GET /datasets/{id}/preview: the precomputed thumbnail."""

    async def get(self, dataset_id: str) -> None:
        path = await self.run(self._locate, int(dataset_id))
        kind = PREVIEW_TYPES.get(path.suffix.lower(), "application/octet-stream")
        self.set_header("Cache-Control", "private, max-age=3600")
        await self.send_file(path, kind, _disposition("inline", path.name))

    def _locate(self, dataset_id: int) -> Path:
        with self.ctx.db.session() as sess:
            ds = get_visible_dataset(sess, self.principal, dataset_id)
            return resolve_under(self.ctx.previews_root, ds.preview_path)


class ZipHandler(BaseHandler):
    """GET /records/{id}/zip and /records/{id}/activities/{seq}/zip: files as one streamed zip.

    The zip is uncompressed (EM data barely compresses) and *sized*
    (zipstream-ng): its exact length is known before the first byte, so the
    response has a Content-Length, clients show real progress, and tornado
    passes file data to the socket without re-framing (copying) it into HTTP
    chunks. The archive is read in the thread pool about ``ZIP_BATCH`` bytes
    at a time and each batch is sent before the next is read, so memory stays
    flat. Files that are unavailable when the request starts are listed in
    ``MISSING_FILES.txt`` inside the zip.
    """

    async def get(self, record_id: str, seq: str | None = None) -> None:
        root, entries, name = await self.run(self._entries, int(record_id), int(seq) if seq else None)
        stream = await self.run(self._build, root, entries)
        self.set_header("Content-Type", "application/zip")
        self.set_header("Content-Disposition", _disposition("attachment", name))
        self.set_header("Content-Length", str(len(stream)))
        await self.flush()  # headers now; the body goes straight to the connection below
        # A producer reads (and CRCs) ahead in the thread pool while the loop sends; the queue
        # bounds memory to ZIP_AHEAD + 2 batches per download whatever the record's size.
        queue: asyncio.Queue[list[bytes] | Exception] = asyncio.Queue(ZIP_AHEAD)
        producer = asyncio.ensure_future(self._produce(iter(stream), queue))
        try:
            while batch := await queue.get():
                if isinstance(batch, Exception):
                    raise batch  # a file went away mid-stream: the client sees a short body, not a bad zip
                for piece in batch[:-1]:  # no join: tornado queues each piece without copying it
                    self.request.connection.write(piece)
                await self.request.connection.write(batch[-1])
        finally:
            producer.cancel()  # the client went away: stop reading
        self.finish()

    async def _produce(self, pieces: Iterator[bytes], queue: asyncio.Queue) -> None:
        """Read batches into ``queue``; then ``[]`` at the end, or the exception that stopped it."""
        try:
            while batch := await self.run(_take, pieces, ZIP_BATCH):
                await queue.put(batch)
        except Exception as exc:  # noqa: BLE001 - handed to the sending side
            await queue.put(exc)
            return
        await queue.put([])

    @staticmethod
    def _build(root: str | None, entries: list[str]) -> ZipStream:
        stream = ZipStream(compress_type=ZIP_STORED, sized=True)
        problems: list[str] = []
        for rel in entries:
            try:
                stream.add_path(str(resolve_under(root, rel)), archive_name(rel), recurse=False)
            except (NotFoundError, OSError):
                problems.append(f"{archive_name(rel)}: file not available")
        if problems:
            stream.add("\n".join(problems) + "\n", "MISSING_FILES.txt")
        return stream

    def _entries(self, record_id: int, seq: int | None) -> tuple[str | None, list[str], str]:
        with self.ctx.db.session() as sess:
            record = get_visible_record(sess, self.principal, record_id)
            stmt = select(Dataset.relpath, Dataset.companions).where(Dataset.record_id == record.id).order_by(Dataset.id)
            name = f"record-{record.id}.zip"
            if seq is not None:
                act = sess.scalar(select(Activity.id).where(Activity.record_id == record.id, Activity.seq == seq))
                if act is None:
                    raise NotFoundError(f"record {record_id} has no activity {seq}")
                stmt = stmt.where(Dataset.activity_id == act)
                name = f"record-{record.id}-activity-{seq}.zip"
            seen: dict[str, None] = {}
            for relpath, companions in sess.execute(stmt):
                for rel in [relpath, *(companions or [])]:
                    seen.setdefault(rel, None)
            return record.instrument.filestore_root, list(seen), name
