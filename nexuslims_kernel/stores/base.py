"""One interface over instrument stores: keys, sizes, versions and byte streams, never ``os.path``.

Built on fsspec (``LocalFileSystem`` for folders, s3fs / gcsfs / adlfs for
buckets), so the same calls serve every provider. Credentials and an
S3-compatible server's endpoint come only from the provider's standard chain
(``AWS_*`` variables including ``AWS_ENDPOINT_URL``, profiles, workload
identity; ``GOOGLE_APPLICATION_CREDENTIALS``; ``AZURE_*``), never from the
TOML file, and no error message carries them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from nexuslims_kernel.errors import ConfigError, NotFoundError, NxhubError
from nexuslims_kernel.stores.url import StoreURL, parse_store_url

#: fsspec implementation per scheme: (module, class, pip package)
_FILESYSTEMS = {"s3": ("s3fs", "S3FileSystem", "s3fs"), "gs": ("gcsfs", "GCSFileSystem", "gcsfs"),
                "az": ("adlfs", "AzureBlobFileSystem", "adlfs")}
READ_BLOCK = 8 << 20  # ranged GETs of 8 MiB: few requests, bounded memory
LIST_CONCURRENCY = 8  # listings of top-level prefixes in flight at once


class StoreError(NxhubError):
    """A store cannot be reached or read (no such bucket, access denied, endpoint down)."""

    exit_code = 75  # EX_TEMPFAIL, as for a calendar server that is down
    http_status = 502


@dataclass(frozen=True)
class ObjectInfo:
    """One file or object of a store: ``key`` is POSIX and relative to the store's root."""

    key: str
    size: int
    mtime: float  # epoch seconds (last-modified)
    etag: str | None  # provider version tag (S3/Azure ETag, GCS generation); None for folders


def _epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return float(value or 0.0)


def _etag(info: dict[str, Any]) -> str | None:
    for name in ("ETag", "etag", "generation"):
        if info.get(name):
            return str(info[name]).strip('"')
    return None


def check_key(key: str) -> str:
    """``key`` if it is a safe relative key; NotFoundError otherwise (probing learns nothing)."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\x00" in key or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise NotFoundError("file not found")
    return key


class Store:
    """An instrument's store: a folder or a bucket prefix, behind one fsspec filesystem."""

    def __init__(self, url: StoreURL, fs: Any) -> None:
        self.url, self.fs = url, fs

    @property
    def is_object(self) -> bool:
        return self.url.is_object

    def __repr__(self) -> str:
        return f"Store({str(self.url)!r})"

    def path(self, key: str) -> str:
        """The filesystem path of ``key`` (checked: no absolute keys, no ``..``)."""
        return posixpath.join(self.url.root, check_key(key))

    def _key(self, fs_path: str) -> str:
        root = self.url.root.rstrip("/") + "/"
        return fs_path[len(root):] if fs_path.startswith(root) else fs_path

    def _info(self, raw: dict[str, Any]) -> ObjectInfo:
        mtime = raw.get("LastModified") or raw.get("updated") or raw.get("last_modified") or raw.get("mtime")
        return ObjectInfo(self._key(raw["name"]), int(raw.get("size") or 0), _epoch(mtime), _etag(raw))

    def list(self) -> Iterator[ObjectInfo]:
        """Every object below the root (folder placeholders left out).

        A bucket is listed level one first, then each top-level prefix as its own paginated listing,
        ``LIST_CONCURRENCY`` at a time: a listing page is a round trip, so a prefix of many folders
        (days, sessions) lists several times faster than one long chain of pages.
        """
        try:
            if getattr(self.fs, "async_impl", False):
                from fsspec.asyn import sync

                found = sync(self.fs.loop, self._find_concurrently)
            else:
                found = self.fs.find(self.url.root, detail=True)
        except FileNotFoundError:  # an empty prefix, or no bucket at all: only the first is an empty store
            self.check()
            return
        except Exception as exc:  # every provider has its own exception types
            raise self._error(exc) from None
        for raw in found.values():
            if raw.get("type") == "directory" or raw["name"].endswith("/"):
                continue
            yield self._info(raw)

    async def _find_concurrently(self) -> dict[str, dict[str, Any]]:
        top = await self.fs._ls(self.url.root, detail=True)
        found = {o["name"]: o for o in top if o.get("type") != "directory"}
        gate = asyncio.Semaphore(LIST_CONCURRENCY)

        async def below(prefix: str) -> dict[str, dict[str, Any]]:
            async with gate:
                return await self.fs._find(prefix, detail=True)

        for part in await asyncio.gather(*(below(o["name"]) for o in top if o.get("type") == "directory")):
            found.update(part)
        return found

    def info(self, key: str) -> ObjectInfo:
        try:
            return self._info(self.fs.info(self.path(key), refresh=True) if self.is_object else self.fs.info(self.path(key)))
        except FileNotFoundError:
            raise NotFoundError("file not found") from None
        except NxhubError:
            raise
        except Exception as exc:
            raise self._error(exc) from None

    def open(self, key: str) -> IO[bytes]:
        """A seekable binary stream of ``key`` (ranged reads on object stores, bounded memory)."""
        try:
            if self.is_object:
                return self.fs.open(self.path(key), "rb", block_size=READ_BLOCK, cache_type="readahead")
            return self.fs.open(self.path(key), "rb")
        except FileNotFoundError:
            raise NotFoundError("file not found") from None
        except NxhubError:
            raise
        except Exception as exc:
            raise self._error(exc) from None

    def check(self) -> None:
        """Raise StoreError (one line) unless the store can be listed now."""
        if not self.is_object:
            if not self.fs.isdir(self.url.root):
                raise StoreError(f"{self.url} is not a folder")
            return
        try:
            if self.url.scheme == "s3":  # one page of one key: cheap on a bucket of millions
                self.fs.call_s3("list_objects_v2", Bucket=self.url.bucket, Prefix=self.url.prefix, MaxKeys=1)
            elif not self.fs.exists(self.url.bucket):
                raise FileNotFoundError(self.url.bucket)
            else:
                self.fs.ls(self.url.root, detail=False)
        except Exception as exc:
            raise self._error(exc) from None

    def _error(self, exc: BaseException) -> StoreError:
        what = "container" if self.url.scheme == "az" else "bucket"
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, FileNotFoundError) or "NoSuchBucket" in text or "does not exist" in text:
            return StoreError(f"{what} {self.url.bucket!r} does not exist or is not visible ({self.url})")
        if isinstance(exc, PermissionError) or "AccessDenied" in text or "Forbidden" in text:
            return StoreError(f"access denied to {self.url}: check the credentials of the provider's standard chain")
        if "PermanentRedirect" in text or "AuthorizationHeaderMalformed" in text or "region" in text.lower():
            return StoreError(f"{self.url} is in another region: set AWS_REGION (or AWS_DEFAULT_REGION) to the bucket's region")
        return StoreError(f"cannot reach {self.url}: {text}")


def _object_fs(scheme: str) -> Any:
    module, cls, package = _FILESYSTEMS[scheme]
    try:
        mod = __import__(module)
    except ImportError:
        raise ConfigError(f"{scheme}:// stores need the {package} package: pip install {package}") from None
    kwargs: dict[str, Any] = {"skip_instance_cache": True}
    if scheme == "s3":  # bounded waits: a wrong endpoint fails in seconds, not minutes
        kwargs |= {"use_listings_cache": False,
                   "config_kwargs": {"connect_timeout": 5, "read_timeout": 60, "retries": {"max_attempts": 3}}}
    return getattr(mod, cls)(**kwargs)


def open_store(value: str | StoreURL) -> Store:
    """The store named by a URL or absolute path (no I/O yet; see :meth:`Store.check`)."""
    url = value if isinstance(value, StoreURL) else parse_store_url(value)
    if url.is_object:
        return Store(url, _object_fs(url.scheme))
    from fsspec.implementations.local import LocalFileSystem

    return Store(url, LocalFileSystem())


@functools.lru_cache(maxsize=64)
def shared_store(root: str) -> Store:
    """One :class:`Store` per root for a long-lived process (the API): its HTTP connections are reused.

    Made on first use in each process, so API processes forked from one parent never share a client.
    """
    return open_store(root)
