"""A folder behind the same store interface: file:// URLs are today's paths, keys never leave the root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from nexuslims_kernel.db.directory import add_instrument
from nexuslims_kernel.db.models import Instrument
from nexuslims_kernel.errors import NotFoundError
from nexuslims_kernel.files import scan
from nexuslims_kernel.stores import StoreError, open_store, open_view


def test_folder_store_lists_reads_and_refuses_escapes(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (root / "day").mkdir(parents=True)
    (root / "day" / "a.dm3").write_bytes(b"a" * 10)
    (tmp_path / "secret").write_bytes(b"s")
    store = open_store(f"file://{root}")
    assert not store.is_object and store.url.path == str(root)
    store.check()
    (info,) = list(store.list())
    assert (info.key, info.size, info.etag) == ("day/a.dm3", 10, None)
    assert info.mtime == pytest.approx(os.stat(root / "day" / "a.dm3").st_mtime)
    with store.open("day/a.dm3") as fh:
        assert fh.read() == b"a" * 10
    for bad in ("../secret", "/etc/passwd", "day/../../secret", "day//a.dm3", ""):
        with pytest.raises(NotFoundError):
            store.open(bad)
    with pytest.raises(StoreError, match="is not a folder"):
        open_store(str(tmp_path / "missing")).check()


def test_file_url_instrument_is_a_plain_folder(db, settings, tmp_path: Path) -> None:
    root = tmp_path / "store"
    (root / "day").mkdir(parents=True)
    (root / "day" / "a.dm3").write_bytes(b"a" * 10)
    os.utime(root / "day" / "a.dm3", (1.7e9, 1.7e9))  # settled long ago
    with db.session(write=True) as sess:
        add_instrument(sess, "titan", filestore_root=f"file://{root}")
        assert sess.scalar(select(Instrument.filestore_root)) == str(root)  # stored as today's absolute path
    assert scan(db, "titan", settings).added_or_changed == 1
    with open_view(str(root), settings) as view:  # a folder is its own view: nothing copied, nothing removed
        assert view.root == root and view.fetch([]) == 0
    assert (root / "day" / "a.dm3").exists()
