"""Batched writes of the file index: bulk upserts instead of one ORM object per file.

A scan queues changes here and :meth:`IndexWriter.flush` writes them in one
short transaction (``executemany`` / multi-row ``INSERT ... ON CONFLICT``),
so a cold scan of a large store is limited by the disk, not the database, and
SQLite's write lock is held for milliseconds at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import IndexedDir, IndexedFile

FLUSH_ROWS = 20_000


@dataclass
class CachedDir:
    mtime_ns: int | None
    newest_file_mtime: float | None


def dialect_insert(dialect: str, table: Any) -> Any:
    """INSERT with ``on_conflict_do_update`` for the running backend (same API on both)."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def subtree_clause(column: Any, prefix: str) -> Any:
    """Rows strictly below folder ``prefix`` ('/' + 1 == '0' bounds the range)."""
    return and_(column >= prefix + "/", column < prefix + "0")


def load_dirs(db: Database, instrument_id: int) -> dict[str, CachedDir]:
    with db.session() as sess:
        rows = sess.execute(
            select(IndexedDir.relpath, IndexedDir.mtime_ns, IndexedDir.newest_file_mtime).where(
                IndexedDir.instrument_id == instrument_id
            )
        )
        return {r.relpath: CachedDir(r.mtime_ns, r.newest_file_mtime) for r in rows}


def has_files(db: Database, instrument_id: int) -> bool:
    with db.session() as sess:
        return sess.scalar(select(IndexedFile.id).where(IndexedFile.instrument_id == instrument_id).limit(1)) is not None


def files_in_dir(sess: Session, instrument_id: int, rel: str) -> dict[str, tuple[int, int, float, bool]]:
    """Indexed files directly in folder ``rel``: name -> (id, size, mtime, deleted)."""
    where = [IndexedFile.instrument_id == instrument_id]
    start = 1
    if rel:
        where.append(subtree_clause(IndexedFile.relpath, rel))
        start = len(rel) + 2
    where.append(~func.substr(IndexedFile.relpath, start).contains("/"))
    rows = sess.execute(
        select(IndexedFile.id, IndexedFile.relpath, IndexedFile.size, IndexedFile.mtime, IndexedFile.deleted).where(*where)
    )
    return {r.relpath[start - 1:]: (r.id, r.size, r.mtime, r.deleted) for r in rows}


class IndexWriter:
    """Queued index changes for one instrument, written in batches."""

    def __init__(self, db: Database, instrument_id: int) -> None:
        self.db = db
        self.instrument_id = instrument_id
        self.now = utcnow()
        self.upserts: list[dict[str, Any]] = []
        self.deleted_ids: list[int] = []
        self.gone_dirs: list[str] = []
        self.dirs: list[dict[str, Any]] = []

    def pending(self) -> int:
        return len(self.upserts) + len(self.deleted_ids) + len(self.dirs) + len(self.gone_dirs)

    def upsert(self, relpath: str, size: int, mtime: float, etag: str | None = None) -> None:
        self.upserts.append((relpath, size, mtime, etag))

    def _upsert_files(self, sess: Session) -> None:
        """Plain DB-API ``executemany``: the per-row cost of ORM/Core parameter processing
        dominated cold scans, and these rows need no type conversion but the timestamp."""
        dialect = sess.get_bind().dialect
        to_db = IndexedFile.__table__.c.last_seen.type.bind_processor(dialect)
        now = to_db(self.now) if to_db else self.now  # exactly what the ORM would store
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        false = "0" if dialect.name == "sqlite" else "false"
        sql = (
            "INSERT INTO indexed_files (instrument_id, relpath, size, mtime, etag, deleted, first_seen, last_seen) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {false}, {mark}, {mark}) "
            "ON CONFLICT (instrument_id, relpath) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, "
            f"etag = excluded.etag, deleted = {false}, last_seen = excluded.last_seen, sha256 = NULL, crc32 = NULL"
        )
        iid = self.instrument_id
        sess.connection().exec_driver_sql(
            sql, [(iid, rel, size, mtime, etag, now, now) for rel, size, mtime, etag in self.upserts])

    def mark_deleted(self, file_id: int) -> None:
        self.deleted_ids.append(file_id)

    def drop_dir(self, rel: str) -> None:
        """Folder ``rel`` is gone (deleted or renamed): its files and folders leave the index."""
        self.gone_dirs.append(rel)

    def set_dir(self, rel: str, mtime_ns: int | None, newest: float | None) -> None:
        self.dirs.append({"instrument_id": self.instrument_id, "relpath": rel, "mtime_ns": mtime_ns,
                          "newest_file_mtime": newest, "scanned_at": self.now})

    def maybe_flush(self) -> None:
        if self.pending() >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending():
            return
        with self.db.session(write=True) as sess:
            self._write(sess)
        self.upserts, self.deleted_ids, self.gone_dirs, self.dirs = [], [], [], []

    def _write(self, sess: Session) -> None:
        dialect = self.db.dialect
        iid = self.instrument_id
        for rel in self.gone_dirs:
            sess.execute(
                update(IndexedFile)
                .where(IndexedFile.instrument_id == iid, subtree_clause(IndexedFile.relpath, rel), IndexedFile.deleted.is_(False))
                .values(deleted=True, last_seen=self.now)
            )
            sess.execute(delete(IndexedDir).where(
                IndexedDir.instrument_id == iid,
                (IndexedDir.relpath == rel) | subtree_clause(IndexedDir.relpath, rel),
            ))
        if self.deleted_ids:
            sess.execute(update(IndexedFile).where(IndexedFile.id.in_(self.deleted_ids)).values(deleted=True, last_seen=self.now))
        if self.upserts:
            self._upsert_files(sess)
        if self.dirs:
            stmt = dialect_insert(dialect, IndexedDir)
            stmt = stmt.on_conflict_do_update(
                index_elements=["instrument_id", "relpath"],
                set_={"mtime_ns": stmt.excluded.mtime_ns, "newest_file_mtime": stmt.excluded.newest_file_mtime,
                      "scanned_at": stmt.excluded.scanned_at},
            )
            sess.execute(stmt, self.dirs)

