"""A bucket store under the watcher and the doctor: polled, not watched; its reachability is reported."""

from __future__ import annotations

import dataclasses
import threading
import time

from sqlalchemy import select

from nexuslims_kernel.db.directory import add_instrument
from nexuslims_kernel.db.models import IndexedFile
from nexuslims_kernel.files import watch_all


def test_watcher_polls_a_bucket(db, settings, s3, bucket: str) -> None:
    fast = dataclasses.replace(settings, files=dataclasses.replace(settings.files, poll_s=1.0))
    with db.session(write=True) as sess:
        add_instrument(sess, "titan", filestore_root=f"s3://{bucket}/titan")
    stop, scans, errors = threading.Event(), [], []
    runner = threading.Thread(target=watch_all, args=(db, fast, stop), daemon=True,
                              kwargs={"on_scan": scans.append, "on_error": lambda *a: errors.append(a)})
    runner.start()
    try:
        s3.fs().pipe(f"{bucket}/titan/new.dm3", b"n" * 10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with db.session() as sess:
                if sess.scalar(select(IndexedFile.relpath).where(IndexedFile.relpath == "new.dm3")):
                    break
            time.sleep(0.2)
        else:
            raise AssertionError(f"the new object was not indexed by polling: {scans}")
        assert errors == [] and scans[0].instrument == "titan"
    finally:
        stop.set()
        runner.join(10)
    assert not runner.is_alive()


def test_doctor_reports_a_bucket_store(db, settings, s3, bucket: str) -> None:
    from nexuslims_kernel.hub.doctor import check_stores

    with db.session(write=True) as sess:
        add_instrument(sess, "titan", filestore_root=f"s3://{bucket}/titan")
    (ok,) = check_stores(db)
    assert ok.ok and "can be listed" in ok.detail
    s3.fs().rm(bucket, recursive=True)
    (gone,) = check_stores(db)
    assert not gone.ok and "does not exist" in gone.detail
