"""A session whose files are in a bucket becomes the same record as from a folder, and its files download intact."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from nexuslims_kernel.builder import build_session
from nexuslims_kernel.db.api_tokens import create_api_token
from nexuslims_kernel.db.directory import add_instrument, add_person
from nexuslims_kernel.db.models import IndexedFile, InstrumentSession, Person, Record
from nexuslims_kernel.records import load_record

CORPUS = ["rosettasciio/dm/synthetic_2D_test-1.dm3", "rosettasciio/dm/synthetic_3D_test-2.dm4",
          "rosettasciio/tiff_other/test_loading_image_saved_with_DM.tif", "exspy/msa/coreloss_spectrum.msa"]
TIA = ["rosettasciio/tia/old/16x16_STEM_BF_DF_acquire.emi", "rosettasciio/tia/old/16x16_STEM_BF_DF_acquire_1.ser",
       "rosettasciio/tia/old/16x16_STEM_BF_DF_acquire_2.ser"]


@pytest.fixture(scope="module")
def pool():
    from nexuslims_kernel.extract import ExtractionPool

    with ExtractionPool(workers=2, timeout_s=60, memory_mb=1500) as p:
        yield p


def _session_over_now(db, root: str) -> int:
    """An instrument on ``root`` and a queued session around now (an object's last-modified is its upload time)."""
    now = dt.datetime.now(dt.UTC)
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "titan", filestore_root=root)
        alice = add_person(sess, "alice", display_name="Alice Example")
        add_person(sess, "carol")
        row = InstrumentSession(instrument_id=inst.id, person_id=alice.id, start=now - dt.timedelta(hours=1),
                                end=now + dt.timedelta(minutes=30), source="manual", status="TO_BE_BUILT")
        sess.add(row)
        sess.flush()
        return row.id


def _upload(s3, bucket: str, corpus_dir: Path) -> dict[str, bytes]:
    fs, out = s3.fs(), {}
    for rel in CORPUS:
        out[f"day/{Path(rel).name}"] = (corpus_dir / rel).read_bytes()
    for rel in TIA:
        out[f"day/tia/{Path(rel).name}"] = (corpus_dir / rel).read_bytes()
    for key, data in out.items():
        fs.pipe(f"{bucket}/titan/{key}", data)
    return out


def test_bucket_session_builds_and_downloads(db, settings, s3, bucket: str, corpus_dir: Path, pool) -> None:
    from apikit_s3 import api_server_for

    files = _upload(s3, bucket, corpus_dir)
    sid = _session_over_now(db, f"s3://{bucket}/titan")

    result = build_session(db, sid, settings, pool=pool)
    assert result.status == "COMPLETED", result.error
    assert (result.n_files, result.n_extracted, result.warnings) == (7, 5, [])
    with db.session() as sess:
        record = load_record(sess, sess.scalar(select(Record.id).where(Record.session_id == sid)))
        by_rel = {d.relpath: d for d in record.datasets}
        assert result.n_datasets == record.n_datasets == 6  # the TIA pair gives two signals
        emi = by_rel["day/tia/16x16_STEM_BF_DF_acquire.emi"]
        assert sorted(emi.companions) == ["day/tia/16x16_STEM_BF_DF_acquire_1.ser", "day/tia/16x16_STEM_BF_DF_acquire_2.ser"]
        assert by_rel["day/synthetic_2D_test-1.dm3"].dataset_type == "Image"
        assert all(d.preview_path for d in record.datasets if d.relpath.endswith(".dm3"))
        sums = {r.relpath: r.sha256 for r in sess.scalars(select(IndexedFile))}
        dataset_ids = {d.relpath: d.id for d in record.datasets}
    assert sums == {key: hashlib.sha256(data).hexdigest() for key, data in files.items()}  # fixity of the bytes in the bucket

    cache = settings.store_cache_path
    assert not any((cache / "views").iterdir())  # the build's private view is gone, the cache stays bounded
    blobs = sorted(p.stat().st_size for p in (cache / "blobs").glob("*/*"))
    assert sum(blobs) <= settings.files.cache_mb << 20 and len(blobs) == 7

    # A rebuild of the unchanged session reads nothing from the bucket again.
    from nexuslims_kernel.sessions.machine import move

    for blob in (cache / "blobs").glob("*/*"):
        blob.unlink()
    move(db, sid, "TO_BE_BUILT", actor="test")
    again = build_session(db, sid, settings, pool=pool)
    assert (again.status, again.n_cached, again.n_extracted) == ("COMPLETED", 5, 0)
    assert not list((cache / "blobs").glob("*/*"))

    with db.session(write=True) as sess:
        alice = create_api_token(sess, "alice", "test")
        carol = create_api_token(sess, "carol", "test")
        sess.execute(Record.__table__.update().values(owner_id=sess.scalar(select(Person.id).where(Person.username == "alice"))))
    with api_server_for(settings, db) as server:
        with server.client(alice) as http:
            for rel, ds_id in dataset_ids.items():
                got = http.get(f"/datasets/{ds_id}/file")
                assert got.status_code == 200, got.text
                assert got.content == files[rel]
                assert got.headers["content-disposition"].startswith(f'attachment; filename="{rel.rsplit("/", 1)[-1]}"')
            ds = dataset_ids["day/synthetic_3D_test-2.dm4"]
            part = http.get(f"/datasets/{ds}/file", headers={"Range": "bytes=100-1099"})
            assert part.status_code == 206 and part.content == files["day/synthetic_3D_test-2.dm4"][100:1100]
            assert part.headers["content-range"] == f"bytes 100-1099/{len(files['day/synthetic_3D_test-2.dm4'])}"
            head = http.head(f"/datasets/{ds}/file")
            assert head.status_code == 200 and int(head.headers["content-length"]) == len(files["day/synthetic_3D_test-2.dm4"])
            companion = "day/tia/16x16_STEM_BF_DF_acquire_2.ser"
            got = http.get(f"/records/{record.id}/files/{companion}")
            assert got.status_code == 200 and got.content == files[companion]
            assert http.get(f"/records/{record.id}/files/day/../../other/secret").status_code == 404
            for _ in range(2):  # the second zip uses the CRCs the first one computed (or the build's)
                zipped = http.get(f"/records/{record.id}/zip")
                assert zipped.status_code == 200 and int(zipped.headers["content-length"]) == len(zipped.content)
                with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
                    assert archive.testzip() is None
                    assert {n: archive.read(n) for n in archive.namelist()} == files
            s3.fs().pipe(f"{bucket}/titan/day/coreloss_spectrum.msa", b"rewritten, shorter")  # changed after indexing:
            with pytest.raises(httpx.RemoteProtocolError):  # the zip ends short, never a complete-looking bad archive
                http.get(f"/records/{record.id}/zip")
            s3.fs().rm(f"{bucket}/titan/day/synthetic_2D_test-1.dm3")  # gone from the bucket: a clean 404
            assert http.get(f"/datasets/{dataset_ids['day/synthetic_2D_test-1.dm3']}/file").status_code == 404
        with server.client(carol) as http:  # ACL as for a folder: another person's private record is not found
            assert http.get(f"/datasets/{ds}/file").status_code == 404
        assert httpx.get(f"{server.base}/datasets/{ds}/file").status_code in (401, 404)


def test_object_changed_after_indexing_is_retried_not_built_stale(db, settings, s3, bucket: str, corpus_dir: Path,
                                                                    pool) -> None:
    from nexuslims_kernel.files import scan

    dm3 = (corpus_dir / CORPUS[0]).read_bytes()
    s3.fs().pipe(f"{bucket}/titan/day/a.dm3", dm3)
    sid = _session_over_now(db, f"s3://{bucket}/titan")
    scan(db, "titan", settings)
    s3.fs().pipe(f"{bucket}/titan/day/a.dm3", (corpus_dir / CORPUS[1]).read_bytes())  # rewritten after the scan
    first = build_session(db, sid, settings, pool=pool, rescan=False)
    assert first.status == "TO_BE_BUILT" and "changed" in first.error and "since it was indexed" in first.error
    assert not list((settings.store_cache_path / "blobs").glob("*/*"))  # nothing stale kept
    again = build_session(db, sid, settings, pool=pool)  # the retry re-scans first and reads the new object
    assert again.status == "COMPLETED", again.error
    with db.session() as sess:
        record = load_record(sess, again.record_id)
        assert {d.file_size for d in record.datasets} == {len((corpus_dir / CORPUS[1]).read_bytes())}
        row = sess.scalar(select(IndexedFile).where(IndexedFile.relpath == "day/a.dm3"))
        assert row.sha256 == hashlib.sha256((corpus_dir / CORPUS[1]).read_bytes()).hexdigest()
