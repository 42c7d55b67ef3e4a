"""Incremental scan of an instrument's file store into the ``indexed_files`` table.

Rule: a folder is listed again only when its mtime changed since the last scan
(a file was added, removed or renamed in it), when it held files that had not
settled yet, when a file in it was written in the last ``hot_s`` seconds (an
acquisition may still rewrite it in place, which does not touch the folder's
mtime), when a watcher reported it, or with ``full=True``. Every other folder
costs one ``stat``. Files younger than ``settle_s`` are left for the next scan
(they may still be being written). A file that disappears is marked
``deleted``; a renamed file is a delete plus an add; a folder that disappears
takes its whole subtree out of the index.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Any

from nexuslims_kernel.config import Settings, get_settings
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import Instrument
from nexuslims_kernel.errors import ConfigError, NotFoundError, NxhubError
from nexuslims_kernel.files.store import CachedDir, IndexWriter, files_in_dir, has_files, load_dirs
from nexuslims_kernel.files.walk import dir_mtime_ns, join, list_dir
from nexuslims_kernel.stores import open_store, parse_store_url

HOT_S = 900.0  # folders written to this recently are always re-listed
DIR_TRUST_S = 2.0  # a folder mtime this fresh may still change within its timestamp granularity


@dataclass
class ScanStats:
    """What one scan did."""

    instrument: str
    dirs_listed: int = 0
    dirs_skipped: int = 0
    files_seen: int = 0
    added_or_changed: int = 0
    deleted: int = 0
    unsettled: int = 0
    elapsed_s: float = 0.0

    @property
    def files_per_s(self) -> float:
        return self.files_seen / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"files_per_s": round(self.files_per_s)}


@dataclass(frozen=True)
class StoreRef:
    id: int
    name: str
    root: str  # an absolute folder, or a bucket URL when ``is_object``
    is_object: bool = False


def resolve_store(db: Database, instrument: Instrument | str | int) -> StoreRef:
    """Id, name and absolute root of an instrument's file store; a clear error if it has none."""
    from nexuslims_kernel.db.directory import get_instrument

    if isinstance(instrument, Instrument):
        inst_id, name, root = instrument.id, instrument.name, instrument.filestore_root
    else:
        with db.session() as sess:
            inst = get_instrument(sess, instrument)
            inst_id, name, root = inst.id, inst.name, inst.filestore_root
    if not root:
        raise ConfigError(f"instrument {name} has no file store root; set it with 'nxhub instruments edit {name} --filestore PATH'")
    url = parse_store_url(root)
    if url.is_object:
        return StoreRef(inst_id, name, str(url), is_object=True)
    root = url.path
    if not os.path.isdir(root):
        raise NotFoundError(f"file store of instrument {name} ({root}) is not a directory")
    return StoreRef(inst_id, name, os.path.abspath(root))


class _Scanner:
    def __init__(self, db: Database, store: StoreRef, settle_s: float, hot_s: float, full: bool, force: set[str]) -> None:
        self.db, self.store = db, store
        self.real_root = os.path.realpath(store.root)
        self.now = time.time()
        self.settle_before = self.now - settle_s
        self.hot_after = self.now - hot_s
        self.full, self.force = full, force
        self.cache = load_dirs(db, store.id)
        self.children: dict[str, list[str]] = {}
        for rel in self.cache:
            if rel:
                self.children.setdefault(rel.rpartition("/")[0], []).append(rel)
        self.cold = not self.cache and not has_files(db, store.id)
        self.writer = IndexWriter(db, store.id)
        self.stats = ScanStats(store.name)

    def abspath(self, rel: str) -> str:
        return os.path.join(self.store.root, *rel.split("/")) if rel else self.store.root

    def needs_listing(self, rel: str, mtime_ns: int, cached: CachedDir | None) -> bool:
        if self.full or cached is None or cached.mtime_ns != mtime_ns or rel in self.force:
            return True
        return cached.newest_file_mtime is not None and cached.newest_file_mtime >= self.hot_after

    def run(self) -> ScanStats:
        started = time.perf_counter()
        root_mtime = dir_mtime_ns(self.store.root)
        stack: list[tuple[str, int]] = [("", root_mtime or 0)]
        while stack:
            rel, mtime_ns = stack.pop()
            cached = self.cache.get(rel)
            if self.needs_listing(rel, mtime_ns, cached):
                stack.extend(self.list_one(rel, mtime_ns))
            else:
                self.stats.dirs_skipped += 1
                for child in self.children.get(rel, []):
                    child_mtime = dir_mtime_ns(self.abspath(child))
                    if child_mtime is None:  # vanished since our parent check: list the parent next time
                        self.writer.drop_dir(child)
                        self.writer.set_dir(rel, None, cached.newest_file_mtime if cached else None)
                    else:
                        stack.append((child, child_mtime))
            self.writer.maybe_flush()
        self.writer.flush()
        self.stats.elapsed_s = time.perf_counter() - started
        return self.stats

    def list_one(self, rel: str, mtime_ns: int) -> list[tuple[str, int]]:
        """List folder ``rel``, queue its file changes, return its sub-folders to visit."""
        listing = list_dir(self.abspath(rel), self.real_root)
        self.stats.dirs_listed += 1
        known = {} if self.cold else self._known(rel)
        unsettled = False
        newest = None
        for name, (size, mtime) in listing.files.items():
            self.stats.files_seen += 1
            if mtime > self.settle_before:
                unsettled = True
                self.stats.unsettled += 1
                known.pop(name, None)  # keep any older row until the new content settles
                continue
            newest = mtime if newest is None else max(newest, mtime)
            row = known.pop(name, None)
            if row is None or row[1] != size or row[2] != mtime or row[3]:
                self.writer.upsert(join(rel, name), size, mtime)
                self.stats.added_or_changed += 1
        for file_id, _size, _mtime, deleted in known.values():
            if not deleted:
                self.writer.mark_deleted(file_id)
                self.stats.deleted += 1
        for child in self.children.get(rel, []):
            if child.rpartition("/")[2] not in listing.subdirs:
                self.writer.drop_dir(child)
        trusted = not unsettled and mtime_ns < (self.now - DIR_TRUST_S) * 1e9
        self.writer.set_dir(rel, mtime_ns if trusted else None, newest)
        return [(join(rel, name), m) for name, m in listing.subdirs.items()]

    def _known(self, rel: str) -> dict[str, tuple[int, int, float, bool]]:
        with self.db.session() as sess:
            return files_in_dir(sess, self.store.id, rel)


def scan(
    db: Database,
    instrument: Instrument | str | int,
    settings: Settings | None = None,
    *,
    full: bool = False,
    force_dirs: Iterable[str] = (),
    hot_s: float = HOT_S,
) -> ScanStats:
    """Bring the index of ``instrument``'s store (a folder or a bucket prefix) up to date."""
    settings = settings or get_settings()
    store = resolve_store(db, instrument)
    if store.is_object:  # a bucket: one listing compared by ETag (force_dirs and hot_s have no meaning there)
        from nexuslims_kernel.files.objects import scan_objects

        return scan_objects(db, store.id, open_store(store.root), ScanStats(store.name))
    return _Scanner(db, store, settings.build.settle_s, hot_s, full, set(force_dirs)).run()


def store_names(db: Database) -> list[str]:
    """Instruments that have a file store root, by name."""
    from sqlalchemy import select

    with db.session() as sess:
        return list(sess.scalars(select(Instrument.name).where(Instrument.filestore_root.is_not(None)).order_by(Instrument.name)))


def scan_all(db: Database, settings: Settings | None = None, *, full: bool = False,
             on_error: Callable[[str, NxhubError], None] | None = None) -> list[ScanStats]:
    """Scan every instrument that has a file store root.

    With ``on_error``, a store that cannot be scanned (unmounted, moved) is reported
    to it and the others are still scanned; without, the first such error is raised.
    """
    stats = []
    for name in store_names(db):
        try:
            stats.append(scan(db, name, settings, full=full))
        except NxhubError as exc:
            if on_error is None:
                raise
            on_error(name, exc)
    return stats
