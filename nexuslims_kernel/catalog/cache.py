"""A local cache of data files streamed from the API, keyed by sha256, bounded, least recently used out.

Layout: ``<root>/<key[:2]>/<key>/<relpath…>`` holds a file and its companions at
their store-relative paths (so readers that open siblings, e.g. ``.emi`` + ``.ser``,
find them). An entry appears by one ``rename`` of a finished temporary
directory, under an ``flock`` on ``<root>/locks/<key>``: two processes asking for
the same file download it once, and nobody ever sees half a file. Using an
entry touches its directory's mtime; eviction removes the oldest entries
(under ``<root>/locks/.evict``) until the total is within ``max_bytes``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

DEFAULT_MAX_BYTES = 20 * 1024**3


def default_root() -> Path:
    base = os.environ.get("NXHUB_CACHE_DIR") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "nxhub", "files")
    return Path(base)


def safe_relpath(relpath: str) -> PurePosixPath:
    """A store-relative path that cannot climb out of its entry directory."""
    rel = PurePosixPath(relpath.replace("\\", "/"))
    if rel.is_absolute() or not rel.parts or any(p in ("..", "") for p in rel.parts):
        raise ValueError(f"unsafe file path from the API: {relpath!r}")
    return rel


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _size(entry: Path) -> int:
    return sum(p.stat().st_size for p in entry.rglob("*") if p.is_file())


class FileCache:
    """Files fetched once per machine (per cache root), shared by every process that uses the root."""

    def __init__(self, root: str | Path | None = None, max_bytes: int | None = None) -> None:
        self.root = Path(root) if root else default_root()
        self.max_bytes = int(max_bytes if max_bytes is not None else os.environ.get("NXHUB_CACHE_MAX_BYTES", DEFAULT_MAX_BYTES))
        self.root.mkdir(parents=True, exist_ok=True)

    def entry(self, key: str) -> Path:
        if not key.isalnum():
            raise ValueError(f"bad cache key {key!r}")
        return self.root / key[:2] / key

    def get(self, key: str, relpaths: Iterable[str], fetch: Callable[[str], Iterator[bytes]]) -> Path:
        """The entry directory holding ``relpaths``, downloading with ``fetch(relpath)`` if absent."""
        rels = [safe_relpath(r) for r in relpaths]
        entry = self.entry(key)
        if not entry.is_dir():
            with _flock(self.root / "locks" / key):
                if not entry.is_dir():  # another process may have finished while we waited
                    self._download(entry, rels, fetch)
            self.evict(keep=entry)
        os.utime(entry)  # least recently *used*
        return entry

    def _download(self, entry: Path, rels: list[PurePosixPath], fetch: Callable[[str], Iterator[bytes]]) -> None:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
        try:
            for rel in rels:
                target = tmp.joinpath(*rel.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as fh:
                    for chunk in fetch(str(rel)):
                        fh.write(chunk)
            tmp.rename(entry)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last use, bytes, directory) of every complete entry, oldest first."""
        out = []
        for shard in self.root.iterdir():
            if shard.name == "locks" or not shard.is_dir():
                continue
            for entry in shard.iterdir():
                if entry.is_dir() and not entry.name.startswith("."):
                    with contextlib.suppress(FileNotFoundError):
                        out.append((entry.stat().st_mtime, _size(entry), entry))
        return sorted(out)

    def total_bytes(self) -> int:
        return sum(size for _, size, _ in self.entries())

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Drop least recently used entries until the cache fits in ``max_bytes`` (never ``keep``)."""
        removed: list[Path] = []
        with _flock(self.root / "locks" / ".evict"):
            items = self.entries()
            total = sum(size for _, size, _ in items)
            for _, size, entry in items:
                if total <= self.max_bytes:
                    break
                if keep is not None and entry == keep:
                    continue
                with _flock(self.root / "locks" / entry.name):
                    # rename first: a reader that saw the entry finds it gone, never half-deleted
                    doomed = entry.with_name(f".gone.{entry.name}.{time.monotonic_ns()}")
                    with contextlib.suppress(FileNotFoundError):
                        entry.rename(doomed)
                        shutil.rmtree(doomed, ignore_errors=True)
                        total -= size
                        removed.append(entry)
        return removed
