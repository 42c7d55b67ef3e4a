"""File fixity: each file's sha256 and CRC-32, recorded in the file index when its session is built.

A facility needs to show that the bytes it serves are the bytes the
microscope wrote (sha256, exported with the record), and the API's zips reuse
the CRC-32 instead of reading every file once more for it. Both are computed
in one read, in a few threads (hashing releases the GIL), and only stored if
the file kept its size and mtime meanwhile; the indexer clears them when a
file changes.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from sqlalchemy import update
from sqlalchemy.orm import Session

from nexuslims_kernel.db.models import IndexedFile

READ_SIZE = 1 << 20


class Fixity(NamedTuple):
    file_id: int
    size: int
    mtime: float
    sha256: str
    crc32: int


def checksum(file_id: int, path: str) -> Fixity | None:
    """sha256 and CRC-32 of ``path`` in one read; None if it changed while being read or is unreadable."""
    try:
        before = os.stat(path)
        sha, crc = hashlib.sha256(), 0
        with open(path, "rb") as fh:
            while chunk := fh.read(READ_SIZE):
                sha.update(chunk)
                crc = zlib.crc32(chunk, crc)
        after = os.stat(path)
    except OSError:
        return None
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        return None
    return Fixity(file_id, after.st_size, after.st_mtime, sha.hexdigest(), crc)


def compute(root: str, rows: Iterable[IndexedFile], workers: int = 2,
            progress: Callable[[str, int, int], None] | None = None) -> list[Fixity]:
    """Checksums of the index ``rows`` that have none yet (relpaths under ``root``)."""
    todo = [(r.id, os.path.join(root, r.relpath)) for r in rows if r.sha256 is None or r.crc32 is None]
    out: list[Fixity] = []
    if not todo:
        return out
    with ThreadPoolExecutor(max(1, min(workers, len(todo))), thread_name_prefix="nxhub-fixity") as pool:
        for done, result in enumerate(pool.map(lambda item: checksum(*item), todo), 1):
            if result is not None:
                out.append(result)
            if progress:
                progress("checksums", done, len(todo))
    return out


def store(sess: Session, results: Iterable[Fixity]) -> int:
    """Write checksums to the index, only where the file still has the size and mtime that was read."""
    n = 0
    for f in results:
        n += sess.execute(
            update(IndexedFile)
            .where(IndexedFile.id == f.file_id, IndexedFile.size == f.size, IndexedFile.mtime == f.mtime)
            .values(sha256=f.sha256, crc32=f.crc32)
        ).rowcount or 0
    return n
