"""The local cache of bucket objects: bounded, least recently used out first, never serving a changed object."""

from __future__ import annotations

import os
import time

import pytest

from nexuslims_kernel.stores import BlobCache, StoreError, open_store


def test_cache_is_bounded_lru_and_refuses_changed_objects(s3, bucket: str, tmp_path) -> None:
    fs = s3.fs()
    for name in "abcd":
        fs.pipe(f"{bucket}/p/{name}.bin", name.encode() * 1000)
    store = open_store(f"s3://{bucket}/p")
    infos = {i.key: i for i in store.list()}
    cache = BlobCache(tmp_path / "cache", max_bytes=2500)  # room for two objects of 1000 bytes

    a = cache.fetch(store, infos["a.bin"])
    assert a.read_bytes() == b"a" * 1000 and a.stat().st_mtime == infos["a.bin"].mtime  # extractors see last-modified
    time.sleep(0.05)
    cache.fetch(store, infos["b.bin"])
    time.sleep(0.05)
    assert cache.fetch(store, infos["a.bin"]) == a  # a hit: a is now the most recently used
    time.sleep(0.05)
    cache.fetch(store, infos["c.bin"])  # over the bound: b, the least recently used, goes
    present = {p.name for p in (tmp_path / "cache" / "blobs").glob("*/*")}
    assert present == {cache.blob_path(store, infos[k]).name for k in ("a.bin", "c.bin")}
    assert sum(os.path.getsize(p) for p in (tmp_path / "cache" / "blobs").glob("*/*")) <= 2500

    fs.pipe(f"{bucket}/p/d.bin", b"D" * 1000)  # rewritten after it was indexed
    with pytest.raises(StoreError, match="changed .* since it was indexed"):
        cache.fetch(store, infos["d.bin"])
    assert not cache.blob_path(store, infos["d.bin"]).exists() and not list((tmp_path / "cache" / "blobs").glob("*/.part-*"))
    fresh = {i.key: i for i in store.list()}["d.bin"]
    assert cache.fetch(store, fresh).read_bytes() == b"D" * 1000  # a new ETag is a new blob
