"""A bucket prefix as an instrument's store, on a real S3 server: index, re-scan by ETag, deletions, checks."""

from __future__ import annotations

import subprocess
import sys

import pytest
from s3kit import OUTSIDER
from sqlalchemy import select

from nexuslims_kernel.db.directory import add_instrument, edit_instrument
from nexuslims_kernel.db.models import IndexedFile, Instrument
from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.files import scan
from nexuslims_kernel.stores import StoreError


def _rows(db, name: str = "titan") -> dict[str, IndexedFile]:
    with db.session() as sess:
        inst = sess.scalar(select(Instrument).where(Instrument.name == name))
        return {r.relpath: r for r in sess.scalars(select(IndexedFile).where(IndexedFile.instrument_id == inst.id))}


def _add(db, root: str, name: str = "titan") -> None:
    with db.session(write=True) as sess:
        add_instrument(sess, name, filestore_root=root)


def test_scan_rescan_change_delete(db, settings, s3, bucket: str) -> None:
    fs = s3.fs()
    files = {"day1/a.dm3": b"a" * 1000, "day1/b.tif": b"b" * 2000, "day2/deep/c.emd": b"c" * 3000}
    for key, data in files.items():
        fs.pipe(f"{bucket}/titan/{key}", data)
    fs.pipe(f"{bucket}/titan/day1/.hidden", b"x")  # not a dataset
    fs.pipe(f"{bucket}/titan/day1/copy.part", b"x")  # an upload in progress elsewhere
    fs.pipe(f"{bucket}/other/d.dm3", b"not this instrument")  # outside the prefix
    _add(db, f"s3://{bucket}/titan/")

    first = scan(db, "titan", settings)
    assert (first.files_seen, first.added_or_changed, first.deleted) == (3, 3, 0)
    rows = _rows(db)
    assert set(rows) == set(files)
    for key, data in files.items():
        assert rows[key].size == len(data) and rows[key].etag and not rows[key].deleted
        assert rows[key].etag == fs.info(f"{bucket}/titan/{key}")["ETag"].strip('"')

    again = scan(db, "titan", settings)  # nothing changed: nothing written
    assert (again.files_seen, again.added_or_changed, again.deleted) == (3, 0, 0)

    fs.pipe(f"{bucket}/titan/day1/a.dm3", b"A" * 1000)  # same size, new content: only the ETag tells
    fs.rm(f"{bucket}/titan/day2/deep/c.emd")
    fs.pipe(f"{bucket}/titan/day3/new.dm3", b"n" * 10)
    third = scan(db, "titan", settings)
    assert (third.files_seen, third.added_or_changed, third.deleted) == (3, 2, 1)
    rows = _rows(db)
    assert rows["day1/a.dm3"].etag != first_etag(files, "day1/a.dm3")
    assert rows["day2/deep/c.emd"].deleted and not rows["day3/new.dm3"].deleted

    fs.pipe(f"{bucket}/titan/day2/deep/c.emd", b"c" * 3000)  # a missing key that comes back is live again
    back = scan(db, "titan", settings)
    assert (back.added_or_changed, back.deleted) == (1, 0) and not _rows(db)["day2/deep/c.emd"].deleted


def first_etag(files: dict[str, bytes], key: str) -> str:
    import hashlib

    return hashlib.md5(files[key]).hexdigest()  # S3's ETag of a single-part upload


def test_unreachable_server_marks_nothing_missing(db, settings, s3, bucket: str, monkeypatch) -> None:
    s3.fs().pipe(f"{bucket}/k/one.dm3", b"1" * 100)
    _add(db, f"s3://{bucket}/k")
    assert scan(db, "titan", settings).added_or_changed == 1
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(StoreError, match=r"cannot reach s3://") as err:
        scan(db, "titan", settings)
    assert "\n" not in str(err.value)
    assert not _rows(db)["one.dm3"].deleted
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint)
    s3.fs().rm(bucket, recursive=True)  # the bucket itself is gone: an error, not "every file deleted"
    with pytest.raises(StoreError, match="does not exist"):
        scan(db, "titan", settings)
    assert not _rows(db)["one.dm3"].deleted


def test_add_and_edit_check_the_bucket_before_saving(db, settings, s3, bucket: str, monkeypatch) -> None:
    missing = f"{bucket}-missing"
    with db.session(write=True) as sess, pytest.raises(InvalidInputError, match=f"bucket '{missing}' does not exist"):
        add_instrument(sess, "titan", filestore_root=f"s3://{missing}/x")
    _add(db, f"s3://{bucket}/titan")  # an empty prefix is fine: files arrive later
    with db.session(write=True) as sess, pytest.raises(InvalidInputError, match="unsafe prefix"):
        edit_instrument(sess, "titan", filestore_root=f"s3://{bucket}/../{missing}")
    for key, value in s3.env(OUTSIDER).items():
        monkeypatch.setenv(key, value)
    with db.session(write=True) as sess, pytest.raises(InvalidInputError, match="access denied"):
        edit_instrument(sess, "titan", filestore_root=f"s3://{bucket}/elsewhere")
    with db.session() as sess:
        assert sess.scalar(select(Instrument.filestore_root).where(Instrument.name == "titan")) == f"s3://{bucket}/titan"


def _nxhub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the CLI's own path; the checks above run on both backends
def test_cli_refuses_an_unusable_bucket_in_one_line(db, env_for_cli, s3, bucket: str) -> None:
    env = env_for_cli | s3.env()
    bad = _nxhub(env, "instruments", "add", "titan", "--filestore", f"s3://{bucket}-nope/titan")
    assert bad.returncode != 0 and bad.stderr.strip().count("\n") == 0, bad.stderr
    assert "does not exist" in bad.stderr and "Traceback" not in bad.stderr
    denied = _nxhub(env | s3.env(OUTSIDER), "instruments", "add", "titan", "--filestore", f"s3://{bucket}/titan")
    assert denied.returncode != 0 and "access denied" in denied.stderr and "nxoutsider-secret" not in denied.stderr
    unknown = _nxhub(env, "instruments", "add", "titan", "--filestore", "ftp://host/x")
    assert unknown.returncode != 0 and "unknown scheme 'ftp'" in unknown.stderr
    good = _nxhub(env, "instruments", "add", "titan", "--filestore", f"s3://{bucket}/titan")
    assert good.returncode == 0, good.stderr
    assert "warning" not in good.stderr
    listed = _nxhub(env, "instruments", "list")
    assert f"s3://{bucket}/titan" in listed.stdout


def test_admin_api_checks_the_bucket_too(db, settings, s3, bucket: str) -> None:
    from apikit_s3 import api_server_for

    from nexuslims_kernel.db.api_tokens import create_api_token
    from nexuslims_kernel.db.directory import add_person

    with db.session(write=True) as sess:
        add_person(sess, "root", is_admin=True)
        token = create_api_token(sess, "root", "test")
    with api_server_for(settings, db) as server, server.client(token) as admin:
        bad = admin.post("/admin/instruments", json={"name": "krios", "filestore_root": f"s3://{bucket}-nope/krios"})
        assert bad.status_code == 400 and "does not exist" in bad.json()["error"]["message"]
        traversal = admin.post("/admin/instruments", json={"name": "krios", "filestore_root": "s3://../etc"})
        assert traversal.status_code == 400 and "invalid bucket name" in traversal.json()["error"]["message"]
        ok = admin.post("/admin/instruments", json={"name": "krios", "filestore_root": f"s3://{bucket}/krios/"})
        assert ok.status_code in (200, 201), ok.text
        assert ok.json()["filestore_root"] == f"s3://{bucket}/krios"
