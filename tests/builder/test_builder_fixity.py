"""Fixity: building a session records each file's sha256 and CRC-32; a changed file loses them."""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from pathlib import Path

import numpy as np
import pytest
from buildkit import T0, add_sessions, add_store, touch, tuned
from sqlalchemy import select

from nexuslims_kernel.builder import build_session, fixity
from nexuslims_kernel.db.models import IndexedFile
from nexuslims_kernel.files import scan

MIN = dt.timedelta(minutes=1)


@pytest.fixture(scope="module")
def pool():
    from nexuslims_kernel.extract import ExtractionPool

    with ExtractionPool(workers=1, timeout_s=60, memory_mb=1500) as p:
        yield p


def _write_tiffs(root: Path, n: int) -> list[Path]:
    from rsciio.tiff import file_writer as write_tiff

    axes = [{"size": 16, "name": a, "units": "nm", "scale": 1.0, "offset": 0, "navigate": False} for a in "yx"]
    paths = []
    for i in range(n):
        path = root / "run" / f"img_{i}.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_tiff(str(path), {"data": np.full((16, 16), i, dtype="uint16"), "axes": axes, "metadata": {}, "original_metadata": {}})
        paths.append(touch(path, T0 + (5 + i) * MIN))
    return paths


def _sums(db) -> dict[str, tuple[str | None, int | None]]:
    with db.session() as sess:
        return {r.relpath: (r.sha256, r.crc32) for r in sess.scalars(select(IndexedFile))}


def _built(db, settings, tmp_path: Path, pool, n: int) -> tuple[Path, int, int, list[Path]]:
    """A store with ``n`` images in one session, built: (root, instrument id, session id, image paths)."""
    root = tmp_path / "store"
    inst = add_store(db, root)
    (sid,) = add_sessions(db, inst, [T0])
    paths = _write_tiffs(root, n)
    assert build_session(db, sid, settings, pool=pool).status == "COMPLETED"
    return root, inst, sid, paths


def test_build_records_sha256_and_crc32_of_every_file(db, settings, tmp_path: Path, pool) -> None:
    root, inst, _sid, paths = _built(db, settings, tmp_path, pool, 3)
    expected = {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), zlib.crc32(p.read_bytes()))
                for p in paths}
    assert _sums(db) == expected
    # A file rewritten after the build loses its checksums at the next scan (they no longer describe it).
    paths[1].write_bytes(b"overwritten")
    touch(paths[1], T0 + 30 * MIN)
    scan(db, inst, settings)
    assert _sums(db)["run/img_1.tif"] == (None, None)
    assert _sums(db)["run/img_0.tif"] == expected["run/img_0.tif"]


def test_checksums_of_a_file_that_changed_meanwhile_are_not_stored(db, settings, tmp_path: Path) -> None:
    root = tmp_path / "store"
    inst = add_store(db, root)
    (path,) = _write_tiffs(root, 1)
    scan(db, inst, settings)
    with db.session() as sess:
        rows = list(sess.scalars(select(IndexedFile)))
    sums = fixity.compute(str(root), rows)
    assert len(sums) == 1
    path.write_bytes(b"a new acquisition under the same name")  # rewritten while the build ran
    touch(path, T0 + 40 * MIN)
    scan(db, inst, settings)
    with db.session(write=True) as sess:
        assert fixity.store(sess, sums) == 0
    assert _sums(db) == {"run/img_0.tif": (None, None)}


def test_checksums_can_be_turned_off(db, settings, tmp_path: Path, pool) -> None:
    _built(db, tuned(settings, checksums=False), tmp_path, pool, 2)
    assert set(_sums(db).values()) == {(None, None)}


def test_exports_carry_the_recorded_sha256(db, settings, tmp_path: Path, pool) -> None:
    """The record's JSON and its RO-Crate name each data file's sha256, so a downloader can verify it."""
    import io
    import json
    import zipfile

    from nexuslims_kernel.db.models import Record
    from nexuslims_kernel.records import load_record, to_json, write_rocrate

    root, _inst, sid, paths = _built(db, settings, tmp_path, pool, 2)
    with db.session() as sess:
        record = load_record(sess, sess.scalar(select(Record.id).where(Record.session_id == sid)))
    data = to_json(record)
    expected = {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    assert {d["relpath"]: d["sha256"] for a in data["activities"] for d in a["datasets"]} == expected
    buf = io.BytesIO()
    write_rocrate(record, buf, previews_root=settings.previews_path, store_root=root)
    with zipfile.ZipFile(buf) as zf:
        graph = json.loads(zf.read("ro-crate-metadata.json"))["@graph"]
    assert {e["identifier"]: e["sha256"] for e in graph if e.get("identifier") in expected} == expected
