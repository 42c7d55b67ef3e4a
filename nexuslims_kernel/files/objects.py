"""Index of a bucket store: one paginated listing of the prefix, compared with the index by ETag.

An object is written once and appears whole (no half-written files to wait
for), and a bucket has no folder mtimes to trust, so each scan lists the
whole prefix and writes only what changed: a new key, a key whose ETag (or,
for a provider without one, size and last-modified) differs, or a key that
came back after being marked missing. Keys are marked missing only after the
listing completed, so a server that fails mid-scan marks nothing missing.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import IndexedFile
from nexuslims_kernel.errors import NotFoundError
from nexuslims_kernel.files.store import IndexWriter
from nexuslims_kernel.files.walk import is_ignored
from nexuslims_kernel.stores import ObjectInfo, Store, check_key


def _known(db: Database, instrument_id: int) -> dict[str, tuple[int, int, float, str | None, bool]]:
    with db.session() as sess:
        rows = sess.execute(select(IndexedFile.id, IndexedFile.relpath, IndexedFile.size, IndexedFile.mtime,
                                   IndexedFile.etag, IndexedFile.deleted).where(IndexedFile.instrument_id == instrument_id))
        return {r.relpath: (r.id, r.size, r.mtime, r.etag, r.deleted) for r in rows}


def _safe(key: str) -> bool:
    try:
        check_key(key)
    except NotFoundError:
        return False
    return True


def _changed(row: tuple[int, int, float, str | None, bool], info: ObjectInfo) -> bool:
    _id, size, mtime, etag, deleted = row
    if deleted:
        return True
    if info.etag and etag:
        return info.etag != etag
    return (size, mtime) != (info.size, info.mtime)


def scan_objects(db: Database, instrument_id: int, store: Store, stats: Any) -> Any:
    """Bring the index of a bucket store up to date; fills and returns ``stats`` (a ScanStats)."""
    started = time.perf_counter()
    known = _known(db, instrument_id)
    writer = IndexWriter(db, instrument_id)
    stats.dirs_listed = 1
    for info in store.list():  # raises StoreError before anything is marked missing
        if not _safe(info.key) or any(is_ignored(part) for part in info.key.split("/")):
            continue  # a key with '..' or '//' could not be served safely, so it is not a dataset
        stats.files_seen += 1
        row = known.pop(info.key, None)
        if row is None or _changed(row, info):
            writer.upsert(info.key, info.size, info.mtime, info.etag)
            stats.added_or_changed += 1
            writer.maybe_flush()
    for file_id, _size, _mtime, _etag, deleted in known.values():
        if not deleted:
            writer.mark_deleted(file_id)
            stats.deleted += 1
    writer.flush()
    stats.elapsed_s = time.perf_counter() - started
    return stats
