"""A bounded local cache of objects, so readers that want a file path (rosettasciio) work on buckets.

Blobs are content-addressed by (store, key, ETag): a changed object gets a new
name and is never served stale. The cache is an LRU bounded by
``files.cache_mb``: a blob keeps the object's last-modified as its mtime
(extractors fall back on it) and its access time marks its last use. After a
download the least recently used blobs go until the total fits; each process
counts what it adds and walks the folder only when its count goes over, so
workers sharing one cache may overshoot briefly by what they fetch at once.
A build never holds the whole bucket: it asks for one session's objects, seen
through :func:`open_view` as hard links in a private folder, so eviction while
a build reads cannot pull a file from under it (the link keeps the bytes until
the view is removed).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nexuslims_kernel.stores.base import ObjectInfo, Store, StoreError

COPY_CHUNK = 8 << 20


class BlobCache:
    """Objects of any store as local files under ``root``, at most ``max_bytes`` in total (LRU)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root, self.max_bytes = Path(root), max_bytes
        self.blobs = self.root / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._total: int | None = None  # bytes held, as this process last counted them plus what it added since

    def blob_path(self, store: Store, info: ObjectInfo) -> Path:
        digest = hashlib.sha256(f"{store.url}\0{info.key}\0{info.etag}\0{info.size}".encode()).hexdigest()
        return self.blobs / digest[:2] / digest

    def fetch(self, store: Store, info: ObjectInfo) -> Path:
        """The local copy of ``info`` (downloaded unless cached); StoreError if the object changed meanwhile."""
        path = self.blob_path(store, info)
        with contextlib.suppress(FileNotFoundError):
            os.utime(path, (time.time(), info.mtime))  # LRU: a hit is recent use
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out, store.open(info.key) as src:
                seen = _etag_of(src)
                if info.etag and seen and seen != info.etag:
                    raise StoreError(f"{info.key} changed in {store.url} since it was indexed; it is read again after the next scan")
                shutil.copyfileobj(src, out, COPY_CHUNK)
            if os.path.getsize(tmp) != info.size:
                raise StoreError(f"{info.key} in {store.url} is {os.path.getsize(tmp)} bytes, the index says {info.size}; scan again")
            os.utime(tmp, (time.time(), info.mtime))
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        if self._total is not None:
            self._total += info.size
        if self._total is None or self._total > self.max_bytes:  # the folder is walked only when it may be over
            self.evict()
        return path

    def evict(self) -> int:
        """Remove least recently used blobs until the cache fits; returns bytes freed."""
        entries = []
        for shard in self.blobs.iterdir():
            for blob in shard.iterdir() if shard.is_dir() else ():
                if blob.name.startswith(".part-"):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    st = blob.stat()
                    entries.append((st.st_atime, st.st_size, blob))
        total = sum(size for _m, size, _b in entries)
        freed = 0
        for _used, size, blob in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(FileNotFoundError):
                blob.unlink()
                total -= size
                freed += size
        self._total = total
        return freed


def _etag_of(stream: Any) -> str | None:
    details = getattr(stream, "details", None) or {}
    tag = details.get("ETag") or details.get("etag") or details.get("generation")
    return str(tag).strip('"') if tag else None


class StoreView:
    """A store's files as local paths: the folder itself, or a private folder filled from the cache on demand.

    Only what a build must read is fetched (files without a cached extraction,
    files without checksums), so a rebuild of an unchanged session downloads nothing.
    """

    def __init__(self, root: Path, store: Store | None = None, cache: BlobCache | None = None) -> None:
        self.root, self.store, self.cache = root, store, cache

    def fetch(self, objects: Iterable[ObjectInfo]) -> int:
        """Place ``objects`` at their keys under :attr:`root` (hard links into the cache); returns how many."""
        if self.store is None or self.cache is None:
            return 0
        n = 0
        for info in objects:
            target = self.root.joinpath(*info.key.split("/"))
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            for _attempt in range(3):  # evicted between fetch and link by another worker: fetch again
                try:
                    os.link(self.cache.fetch(self.store, info), target)
                    break
                except FileNotFoundError:
                    continue
            else:
                raise StoreError(f"the store cache at {self.cache.root} is too small to hold {info.key}")
            n += 1
        return n


def cache_for(settings: Any) -> BlobCache:
    return BlobCache(settings.store_cache_path, settings.files.cache_mb << 20)


@contextlib.contextmanager
def open_view(root: str, settings: Any) -> Iterator[StoreView]:
    """A :class:`StoreView` of the store at ``root`` (folder or bucket URL); a bucket's view is removed afterwards."""
    from nexuslims_kernel.stores.base import open_store

    store = open_store(root)
    if not store.is_object:
        yield StoreView(Path(store.url.path))
        return
    cache = cache_for(settings)
    view = cache.root / "views" / uuid.uuid4().hex
    view.mkdir(parents=True)
    try:
        yield StoreView(view, store, cache)
    finally:
        shutil.rmtree(view, ignore_errors=True)
