"""The file index matches the disk after creates, edits, renames, deletes and half-written files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from nexuslims_kernel.db.directory import add_instrument
from nexuslims_kernel.db.models import IndexedFile, InstrumentSession
from nexuslims_kernel.errors import ConfigError
from nexuslims_kernel.files import find_session_files, is_ignored, scan, watch, watch_all

OLD = time.time() - 3600 * 24  # "settled" files: written a day ago


def write(path: Path, data: bytes = b"x", mtime: float | None = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def disk(root: Path) -> dict[str, tuple[int, float]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not is_ignored(d)]
        for name in filenames:
            p = Path(dirpath) / name
            if is_ignored(name) or p.is_symlink():
                continue
            st = p.stat()
            out[p.relative_to(root).as_posix()] = (st.st_size, st.st_mtime)
    return out


def index(db, inst_id: int) -> dict[str, tuple[int, float]]:
    with db.session() as sess:
        rows = sess.execute(select(IndexedFile.relpath, IndexedFile.size, IndexedFile.mtime)
                            .where(IndexedFile.instrument_id == inst_id, IndexedFile.deleted.is_(False)))
        return {r.relpath: (r.size, r.mtime) for r in rows}


@pytest.fixture
def store(db, tmp_path: Path) -> tuple[int, Path]:
    root = tmp_path / "store"
    root.mkdir()
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "Titan", filestore_root=str(root))
        return inst.id, root


def test_index_follows_creates_edits_renames_deletes_and_half_written_files(db, settings, store) -> None:
    inst_id, root = store
    write(root / "2026/03/a.dm4", b"aaaa")
    write(root / "2026/03/b.emd", b"bb")
    write(root / "2026/04/sub/c.tif", b"c")
    write(root / "top.txt", b"t")
    write(root / "2026/03/~$lock.docx")
    write(root / "2026/03/.hidden")
    write(root / "2026/03/copying.part")
    stats = scan(db, "Titan", settings)
    assert index(db, inst_id) == disk(root)
    assert len(index(db, inst_id)) == 4 and stats.added_or_changed == 4

    # half-written: too fresh to index, picked up once it settles
    write(root / "2026/03/growing.dm4", b"g", mtime=None)
    stats = scan(db, "Titan", settings)
    assert stats.unsettled == 1 and "2026/03/growing.dm4" not in index(db, inst_id)
    write(root / "2026/03/growing.dm4", b"grown", mtime=OLD + 60)
    scan(db, "Titan", settings)
    assert index(db, inst_id) == disk(root)

    # modify, rename (file and folder), delete (file and folder)
    write(root / "2026/03/a.dm4", b"aaaaaaaa", mtime=OLD + 120)
    (root / "2026/03/b.emd").rename(root / "2026/03/b-renamed.emd")
    (root / "2026/04").rename(root / "2026/april")
    (root / "top.txt").unlink()
    scan(db, "Titan", settings)
    assert index(db, inst_id) == disk(root)
    assert "2026/04/sub/c.tif" not in index(db, inst_id) and "2026/april/sub/c.tif" in index(db, inst_id)

    for p in sorted((root / "2026/april").rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    (root / "2026/april").rmdir()
    scan(db, "Titan", settings)
    assert index(db, inst_id) == disk(root)

    # a file renamed back to an old name comes back to life in the same row
    (root / "2026/03/b-renamed.emd").rename(root / "2026/03/b.emd")
    scan(db, "Titan", settings)
    assert index(db, inst_id) == disk(root)
    with db.session() as sess:
        assert sess.query(IndexedFile).filter_by(instrument_id=inst_id, relpath="2026/03/b.emd").count() == 1


def test_unchanged_folders_are_not_listed_again(db, settings, store) -> None:
    inst_id, root = store
    for i in range(20):
        write(root / f"d{i}/e/f.dat", b"1")
    os.utime(root, (OLD, OLD))
    for i in range(20):
        os.utime(root / f"d{i}/e", (OLD, OLD))
        os.utime(root / f"d{i}", (OLD, OLD))
    first = scan(db, "Titan", settings, hot_s=0)
    assert first.dirs_listed == 41
    again = scan(db, "Titan", settings, hot_s=0)
    assert again.dirs_listed == 0 and again.dirs_skipped == 41 and again.added_or_changed == 0
    write(root / "d7/e/new.dat", b"22")
    third = scan(db, "Titan", settings, hot_s=0)
    assert third.dirs_listed == 1 and third.added_or_changed == 1
    # an in-place rewrite leaves the folder mtime alone: a full scan finds it
    write(root / "d3/e/f.dat", b"rewritten", mtime=OLD + 5)
    os.utime(root / "d3/e", (OLD, OLD))
    scan(db, "Titan", settings, hot_s=0, full=True)
    assert index(db, inst_id) == disk(root)


def test_symlinks_never_lead_outside_the_root(db, settings, store, tmp_path: Path) -> None:
    inst_id, root = store
    outside = write(tmp_path / "secret" / "passwd.txt", b"secret")
    write(root / "inside.txt", b"in")
    (root / "link-out.txt").symlink_to(outside)
    (root / "link-dir").symlink_to(outside.parent, target_is_directory=True)
    (root / "link-in.txt").symlink_to(root / "inside.txt")
    scan(db, "Titan", settings)
    assert set(index(db, inst_id)) == {"inside.txt", "link-in.txt"}


def test_instrument_without_store_is_a_clear_error(db, settings) -> None:
    with db.session(write=True) as sess:
        add_instrument(sess, "NoStore")
    with pytest.raises(ConfigError, match="NoStore has no file store root"):
        scan(db, "NoStore", settings)


def test_session_files_are_the_window_plus_grace(db, settings, store) -> None:
    inst_id, root = store
    t0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
    for minutes, name in [(-30, "early"), (-4, "grace-before"), (0, "start"), (60, "middle"), (124, "grace-after"), (200, "late")]:
        write(root / f"{name}.dat", mtime=(t0 + dt.timedelta(minutes=minutes)).timestamp())
    scan(db, "Titan", settings)
    sset = dataclasses.replace(settings, build=dataclasses.replace(settings.build, grace_before_s=300, grace_after_s=300))
    with db.session() as sess:
        session = InstrumentSession(instrument_id=inst_id, start=t0, end=t0 + dt.timedelta(hours=2), source="manual")
        names = [f.relpath for f in find_session_files(sess, session, sset)]
    assert names == ["grace-before.dat", "start.dat", "middle.dat", "grace-after.dat"]


def test_watch_mode_indexes_new_files_without_a_manual_scan(db, settings, store) -> None:
    inst_id, root = store
    fast = dataclasses.replace(settings, build=dataclasses.replace(settings.build, settle_s=0.2))
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(db, "Titan", fast, stop), kwargs={"debounce_s": 0.1}, daemon=True)
    thread.start()
    try:
        time.sleep(0.5)
        write(root / "live/new.dm4", b"abc", mtime=None)
        deadline = time.time() + 15
        while time.time() < deadline and "live/new.dm4" not in index(db, inst_id):
            time.sleep(0.1)
        assert "live/new.dm4" in index(db, inst_id)
        (root / "live/new.dm4").unlink()
        deadline = time.time() + 15
        while time.time() < deadline and "live/new.dm4" in index(db, inst_id):
            time.sleep(0.1)
        assert index(db, inst_id) == disk(root)
    finally:
        stop.set()
        thread.join(10)


def _wait_for(pred, timeout: float = 15) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline and not pred():
        time.sleep(0.1)
    return pred()


def test_watching_all_stores_keeps_going_when_one_is_unreachable(db, settings, store, tmp_path) -> None:
    """'nxhub index --watch' with no instrument: every store at once; a missing share is reported, not fatal."""
    titan_id, titan_root = store
    krios_root = tmp_path / "krios"
    krios_root.mkdir()
    with db.session(write=True) as sess:
        krios_id = add_instrument(sess, "Krios", filestore_root=str(krios_root)).id
        add_instrument(sess, "Offline", filestore_root=str(tmp_path / "unmounted-share"))
    fast = dataclasses.replace(settings, build=dataclasses.replace(settings.build, settle_s=0.2))
    stop, errors = threading.Event(), []
    thread = threading.Thread(target=watch_all, args=(db, fast, stop), daemon=True,
                              kwargs={"debounce_s": 0.1, "on_error": lambda name, exc: errors.append(name)})
    thread.start()
    try:
        time.sleep(0.5)
        write(titan_root / "t/one.dm4", b"t", mtime=None)
        write(krios_root / "k/two.mrc", b"k", mtime=None)
        assert _wait_for(lambda: "t/one.dm4" in index(db, titan_id) and "k/two.mrc" in index(db, krios_id))
        assert errors == ["Offline"]
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()
