"""From a session's indexed files to extracted datasets, reusing cached results.

A main file whose (relpath, size, mtime, extractor version) matches its
``extraction_cache`` row (and whose previews still exist) is not read again;
the rest go through the isolated :class:`ExtractionPool`. Companion files are
attached to their main file and never become datasets of their own.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.models import ExtractionCache, IndexedFile
from nexuslims_kernel.files.store import dialect_insert

Progress = Callable[[str, int, int], None]


def extractor_version(timezone: str | None = None) -> str:
    """Changes whenever extraction output may change (owned by the extraction engine).

    The instrument's time zone is part of it: naive vendor times are read in
    that zone, so results cached under another zone are stale.
    """
    from nexuslims_kernel.extract import EXTRACTOR_VERSION

    if not timezone:
        return EXTRACTOR_VERSION
    digest = hashlib.sha1(timezone.encode()).hexdigest()[:8]  # the column holds 50 characters
    return f"{EXTRACTOR_VERSION[:40]}/tz{digest}"


@dataclass
class MainFile:
    """One file that yields datasets, with its companions and (once known) its extraction result."""

    row: IndexedFile
    path: str
    companions: list[str] = field(default_factory=list)  # relpaths
    result: Any = None  # FileResult
    cached: bool = False


def group_files(root: str, rows: Iterable[IndexedFile]) -> list[MainFile]:
    """Main files (in ``rows`` order) with their companions attached."""
    from nexuslims_kernel.extract import split_companions

    by_path = {os.path.join(root, *r.relpath.split("/")): r for r in rows}
    groups = split_companions(list(by_path))
    return [MainFile(row=by_path[main], path=main, companions=[by_path[c].relpath for c in comps])
            for main, comps in groups.items()]


def files_to_read(mains: list[MainFile], rows: Iterable[IndexedFile], checksums: bool) -> list[IndexedFile]:
    """Rows a build reads: main files without a cached result and their companions, and files still without
    checksums. On a bucket store only these are fetched, so a rebuild of an unchanged session downloads nothing."""
    by_rel = {r.relpath: r for r in rows}
    wanted = {rel for m in mains if m.result is None for rel in (m.row.relpath, *m.companions)}
    if checksums:
        wanted |= {rel for rel, r in by_rel.items() if r.sha256 is None or r.crc32 is None}
    return [by_rel[rel] for rel in sorted(wanted) if rel in by_rel]


def _previews_exist(result: Any) -> bool:
    return all(not ds.preview or os.path.exists(ds.preview) for ds in result.datasets)


def attach_cached(sess: Session, instrument_id: int, mains: list[MainFile], version: str) -> None:
    """Fill ``result`` from the cache for files that did not change since they were extracted."""
    from nexuslims_kernel.extract import FileResult

    wanted = {m.row.relpath: m for m in mains}
    for chunk in _chunks(list(wanted), 500):
        rows = sess.scalars(select(ExtractionCache).where(
            ExtractionCache.instrument_id == instrument_id, ExtractionCache.relpath.in_(chunk)))
        for row in rows:
            main = wanted[row.relpath]
            if (row.size, row.mtime, row.extractor_version) != (main.row.size, main.row.mtime, version):
                continue
            result = FileResult.from_dict(row.result)
            if _previews_exist(result):
                main.result, main.cached = result, True


def extract_missing(mains: list[MainFile], pool: Any, preview_dir: Path, instrument: str, progress: Progress | None,
                    timezone: str | None = None) -> None:
    """Extract every main file without a result, in the pool (never raises per file).

    ``timezone`` is the instrument's zone: naive vendor times are read in it.
    """
    todo = {m.path: m for m in mains if m.result is None}
    done = len(mains) - len(todo)
    if progress:
        progress("extracted", done, len(mains))
    if not todo:
        return
    for result in pool.imap(list(todo), preview_dir=preview_dir, instrument=instrument, timezone=timezone):
        main = todo.get(result.path)
        if main is None:
            continue
        main.result = result
        done += 1
        if progress:
            progress("extracted", done, len(mains))


def store_results(sess: Session, dialect: str, instrument_id: int, mains: list[MainFile], version: str) -> None:
    """Upsert freshly extracted results into the cache (inside the record's transaction)."""
    from nexuslims_kernel.db.clean import db_clean

    rows = [{"instrument_id": instrument_id, "relpath": m.row.relpath, "size": m.row.size, "mtime": m.row.mtime,
             "extractor_version": version, "result": db_clean(m.result.to_dict()), "created_at": utcnow()}
            for m in mains if m.result is not None and not m.cached]
    if not rows:
        return
    stmt = dialect_insert(dialect, ExtractionCache)
    stmt = stmt.on_conflict_do_update(
        index_elements=["instrument_id", "relpath"],
        set_={k: getattr(stmt.excluded, k) for k in ("size", "mtime", "extractor_version", "result", "created_at")},
    )
    sess.execute(stmt, rows)


def _chunks(items: list[str], n: int) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]
