"""GET /records/{id}/zip and /records/{id}/activities/{seq}/zip: a record's files as one streamed zip.

The zip is uncompressed (EM data barely compresses), generated on the fly
(:mod:`.zipwriter`) with no temporary copy, and sized in advance, so the
response has a Content-Length: clients show real progress and tornado passes
file data to the socket without re-framing (copying) it into HTTP chunks.

CRC-32s come from the file index when the build worker has recorded them and
the file is unchanged (same size and mtime); such files go from the page
cache to the socket with ``sendfile`` (plain TCP), never through Python, so
a zip streams at disk speed. The others are read here, their CRC computed on
the way and remembered for the next download. A producer reads ahead in the
thread pool (at most ``ZIP_AHEAD`` batches of ``ZIP_BATCH`` bytes) while the
loop sends, so memory stays flat however large the record. Files unavailable
when the request starts are listed in ``MISSING_FILES.txt`` inside the zip.
A bucket store's objects are streamed from the bucket (ranged reads), sized from the index.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator

from sqlalchemy import select, update

from nexuslims_kernel.api import sendfile, zipwriter
from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.files import bucket_store, disposition
from nexuslims_kernel.api.paths import archive_name, resolve_under
from nexuslims_kernel.db.acl import get_visible_record, shown_clause
from nexuslims_kernel.db.models import Activity, Dataset, IndexedFile
from nexuslims_kernel.errors import NotFoundError, NxhubError
from nexuslims_kernel.files.lookup import indexed_by_relpath
from nexuslims_kernel.stores import check_key

log = logging.getLogger(__name__)

#: bytes of zip read per thread-pool hop
ZIP_BATCH = 4 << 20
#: batches read ahead of the socket
ZIP_AHEAD = 3


@dataclasses.dataclass
class ZipPlan:
    name: str
    instrument_id: int
    entries: list[zipwriter.Entry]
    relpaths: dict[str, str]  # absolute path -> relpath in the store (to remember computed CRCs)


def _take(pieces: Iterator[bytes | zipwriter.FileSpan], limit: int) -> list[bytes | zipwriter.FileSpan]:
    """The next pieces adding up to about ``limit`` bytes, or up to a file span ([] at the end)."""
    batch: list[bytes | zipwriter.FileSpan] = []
    size = 0
    for piece in pieces:
        batch.append(piece)
        if isinstance(piece, zipwriter.FileSpan):
            break
        size += len(piece)
        if size >= limit:
            break
    return batch


class ZipHandler(BaseHandler):
    async def head(self, record_id: str, seq: str | None = None) -> None:
        """The headers a GET would send (size included), without reading any file."""
        self._headers_for(await self.run(self._plan, int(record_id), int(seq) if seq else None))
        self.finish()

    def _headers_for(self, plan: ZipPlan) -> None:
        self.set_header("Content-Type", "application/zip")
        self.set_header("Content-Disposition", disposition("attachment", plan.name))
        self.set_header("Content-Length", str(zipwriter.archive_size(plan.entries)))

    async def get(self, record_id: str, seq: str | None = None) -> None:
        plan = await self.run(self._plan, int(record_id), int(seq) if seq else None)
        learned: list[tuple[str, int, float, int]] = []
        sock = sendfile.plain_socket(self)
        pieces = zipwriter.generate(plan.entries, on_crc=lambda e, crc: learned.append((plan.relpaths[e.path], e.size, e.mtime, crc))
                                    if e.path in plan.relpaths else None, spans=sock is not None)
        self._headers_for(plan)
        await self.flush()  # headers now; the body goes straight to the connection below
        queue: asyncio.Queue[list[bytes] | Exception] = asyncio.Queue(ZIP_AHEAD)
        producer = asyncio.ensure_future(self._produce(pieces, queue))
        try:
            while batch := await queue.get():
                if isinstance(batch, Exception):
                    raise batch  # a file changed mid-stream: the client sees a short body, not a bad zip
                pending = None
                for piece in batch:
                    if isinstance(piece, zipwriter.FileSpan):
                        if pending is not None:
                            await pending  # tornado's buffer is empty: the socket is ours until the span is sent
                        pending = None
                        await sendfile.send_span(self, sock, piece.path, 0, piece.size)
                    else:  # no join: tornado queues each piece without copying it
                        pending = self.request.connection.write(piece)
                if pending is not None:
                    await pending
        finally:
            producer.cancel()  # the client went away: stop reading
        if learned:  # before finishing, so a finished download means the next one reuses them
            try:
                await self.run(self._remember, plan.instrument_id, learned)
            except NxhubError as exc:  # only a speed-up for later: never fail a complete download for it
                log.warning("could not store CRC-32s for record zip %s: %s", plan.name, exc)
        self.finish()

    async def _produce(self, pieces: Iterator[bytes], queue: asyncio.Queue) -> None:
        """Read batches into ``queue``; then ``[]`` at the end, or the exception that stopped it."""
        try:
            while batch := await self.run(_take, pieces, ZIP_BATCH):
                await queue.put(batch)
        except Exception as exc:
            await queue.put(exc)
            return
        await queue.put([])

    def _plan(self, record_id: int, seq: int | None) -> ZipPlan:
        with self.ctx.db.session() as sess:
            record = get_visible_record(sess, self.principal, record_id)
            stmt = select(Dataset.relpath, Dataset.companions).where(Dataset.record_id == record.id, shown_clause()).order_by(Dataset.id)
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
            rels = list(seen)
            known = {rel: (f.size, f.mtime, f.crc32) for rel, f in indexed_by_relpath(sess, record.instrument_id, rels).items()}
            root, instrument_id = record.instrument.filestore_root, record.instrument_id
        entries, relpaths, problems = [], {}, []
        bucket = bucket_store(root)
        for rel in rels:
            try:
                if bucket is not None:  # sized from the index: no request per file; a changed object ends the stream short
                    if rel not in known:
                        raise NotFoundError("file not found")
                    key = check_key(rel)
                    entry = zipwriter.Entry.from_stream(bucket.path(key), archive_name(rel), known[rel][0], known[rel][1],
                                                        lambda key=key: bucket.open(key))
                else:
                    entry = zipwriter.Entry.from_file(str(resolve_under(root, rel)), archive_name(rel))
            except (NotFoundError, OSError):
                problems.append(f"{archive_name(rel)}: file not available")
                continue
            size, mtime, crc = known.get(rel, (None, None, None))
            if crc is not None and (size, mtime) == (entry.size, entry.mtime):  # checksummed and unchanged since
                entry = dataclasses.replace(entry, crc32=crc)
            entries.append(entry)
            relpaths[entry.path] = rel
        if problems:
            entries.append(zipwriter.Entry.from_bytes("MISSING_FILES.txt", ("\n".join(problems) + "\n").encode()))
        return ZipPlan(name, instrument_id, entries, relpaths)

    def _remember(self, instrument_id: int, learned: list[tuple[str, int, float, int]]) -> None:
        """Store CRCs computed while streaming, for files still as they were (same size and mtime)."""
        with self.ctx.db.session(write=True) as sess:
            for rel, size, mtime, crc in learned:
                sess.execute(update(IndexedFile).where(
                    IndexedFile.instrument_id == instrument_id, IndexedFile.relpath == rel,
                    IndexedFile.size == size, IndexedFile.mtime == mtime).values(crc32=crc))
