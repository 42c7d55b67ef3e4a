"""Record builder benchmarks (goals from issue 4), measured in one run:

* finding a session's files among 1,000,000 indexed files (SQLite): goal < 50 ms;
* a cold scan of a generated file tree: files/s;
* activity clustering of 10,000 files: goal < 50 ms;
* end-to-end record build of a corpus session vs NexusLIMS 2.8.0's build_record
  (``benchmarks/baseline.py:nexuslims_build``, when present): goal >= 5x faster.

``python benchmarks/bench_build.py [--files N] [--tree N] [CORPUS]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Corpus files for the end-to-end build: common formats, one companion pair.
CORPUS_FILES = [
    "rosettasciio/dm/test_STEM_image.dm3", "rosettasciio/dm/test-EELS_spectrum.dm3", "rosettasciio/dm/synthetic_2D_test-1.dm3",
    "rosettasciio/tiff_other/olympus_SIS.tif", "rosettasciio/bruker/bruker_nano.spx",
    "rosettasciio/tia/old/16x16_STEM_BF_DF_acquire.emi", "rosettasciio/tia/old/16x16_STEM_BF_DF_acquire_1.ser",
    "rosettasciio/tia/old/16x16_STEM_BF_DF_acquire_2.ser", "exspy/msa/coreloss_spectrum.msa",
    "rosettasciio/velox/fei_example_complex_fft.emd",
]


def _report(name: str, value: float, unit: str, goal: str = "", note: str = "") -> None:
    try:
        from benchmarks.common import report  # the shared printer, when the bench engineer's module exists
    except ImportError:
        report = None
    if report is not None:
        try:
            report(name=name, value=value, unit=unit, goal=goal, note=note)
            return
        except TypeError:
            pass
    print(f"{name:<48} {value:>12.3f} {unit:<8} {goal:<14} {note}")


def _timed(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``fn`` in ms."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _fresh_db(tmp: Path, name: str = "bench.db") -> Any:
    from nexuslims_kernel.db import Database, upgrade

    db = Database(f"sqlite:///{tmp / name}")
    upgrade(db)
    return db


def bench_lookup(tmp: Path, n_files: int) -> float:
    """ms to find one 3-hour session's files among ``n_files`` spread over a year."""
    from nexuslims_kernel.db.directory import add_instrument
    from nexuslims_kernel.db.models import InstrumentSession
    from nexuslims_kernel.files import find_session_files

    db = _fresh_db(tmp)
    with db.session(write=True) as sess:
        inst_id = add_instrument(sess, "Bench", filestore_root=str(tmp)).id
    year = 365 * 86400.0
    rng = random.Random(1)
    con = sqlite3.connect(tmp / "bench.db")
    stamp = "2026-01-01 00:00:00.000000"
    rows = ((inst_id, f"d{i // 1000}/f{i}.dm4", 1000 + i % 77, T0.timestamp() - year + rng.random() * year, 0, stamp, stamp)
            for i in range(n_files))
    con.executemany("INSERT INTO indexed_files (instrument_id, relpath, size, mtime, deleted, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    session = InstrumentSession(instrument_id=inst_id, start=T0 - dt.timedelta(days=30), end=T0 - dt.timedelta(days=30, hours=-3),
                                source="manual")
    found: list[int] = []

    def lookup() -> None:
        with db.session() as sess:
            found.append(len(find_session_files(sess, session)))

    ms = _timed(lookup, 20)
    _report(f"file lookup in {n_files:,} indexed files", ms, "ms", "< 50 ms", f"{found[-1]} files in the window")
    db.dispose()
    return ms


def bench_scan(tmp: Path, n_files: int) -> float:
    """Cold scan files/s of a generated tree (100 files per folder)."""
    from nexuslims_kernel.db.directory import add_instrument
    from nexuslims_kernel.files import scan

    root = tmp / "tree"
    old = T0.timestamp()
    for i in range(n_files):
        folder = root / f"{i // 10000:03d}" / f"{(i // 100) % 100:03d}"
        if i % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"img_{i:07d}.dm4"
        path.write_bytes(b"")
        os.utime(path, (old, old))
    db = _fresh_db(tmp, "scan.db")
    with db.session(write=True) as sess:
        add_instrument(sess, "Tree", filestore_root=str(root))
    cold = scan(db, "Tree")
    scan(db, "Tree", hot_s=0)  # folders written within the last seconds are trusted only on the next pass
    warm = scan(db, "Tree", hot_s=0)
    _report(f"cold scan of {n_files:,} files", cold.files_per_s, "files/s", ">= 10,000/s", f"{cold.elapsed_s:.2f} s")
    _report("incremental scan, nothing changed", warm.elapsed_s * 1000, "ms", "", f"{warm.dirs_skipped} folders skipped")
    db.dispose()
    return cold.files_per_s


def bench_cluster(n: int = 10_000) -> float:
    from nexuslims_kernel.builder.activities import split_times

    rng = random.Random(3)
    times, t = [], T0.timestamp()
    for _ in range(n):
        t += rng.uniform(5, 40) if rng.random() > 0.01 else rng.uniform(1800, 7200)
        times.append(t)
    rng.shuffle(times)
    groups: list[int] = []
    ms = _timed(lambda: groups.append(len(split_times(times))), 10)
    _report(f"activity clustering of {n:,} files", ms, "ms", "< 50 ms", f"{groups[-1]} activities")
    return ms


def bench_record(tmp: Path, corpus: Path) -> dict[str, float]:
    """End-to-end build of one session over corpus files (fresh DB, cold extraction pool)."""
    from nexuslims_kernel.builder import build_session
    from nexuslims_kernel.config import load_settings, set_settings
    from nexuslims_kernel.db.directory import add_instrument
    from nexuslims_kernel.db.models import InstrumentSession

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:  # the files NexusLIMS 2.8.0 reads too, so both builds do the same work
        from baseline import common_readable
        from common import corpus_files

        files = [Path(p) for p in common_readable(corpus_files(corpus))]
    except ImportError:
        files = [corpus / rel for rel in CORPUS_FILES if (corpus / rel).is_file()]
    store = tmp / "store"
    paths = []
    for i, src in enumerate(sorted(files)):
        dest = store / "session" / src.relative_to(corpus)  # keep names: companions find their main file
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        when = (T0 + dt.timedelta(minutes=5 + 1 * i)).timestamp()
        os.utime(dest, (when, when))
        paths.append(dest)
    settings = load_settings(environ={}, overrides={"data_dir": str(tmp / "data"), "database_url": f"sqlite:///{tmp / 'rec.db'}"})
    set_settings(settings)
    db = _fresh_db(tmp, "rec.db")
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "Corpus", filestore_root=str(store))
        row = InstrumentSession(instrument_id=inst.id, start=T0, end=T0 + dt.timedelta(hours=2), source="manual",
                                status="TO_BE_BUILT", reservation={"title": "bench"})
        sess.add(row)
        sess.flush()
        sid = row.id
    t = time.perf_counter()
    result = build_session(db, sid, settings)
    ours = time.perf_counter() - t
    _report(f"record build, {len(paths)} corpus files (ours)", ours, "s", "", f"{result.status}, {result.n_datasets} datasets")
    out = {"ours_s": ours}
    try:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from baseline import nexuslims_build  # engineer "bench": NexusLIMS 2.8.0's build_record
    except ImportError as exc:
        _report("record build, NexusLIMS 2.8.0", float("nan"), "s", ">= 5x slower", f"baseline unavailable: {exc}")
        return out
    t = time.perf_counter()
    base = nexuslims_build([str(p) for p in paths], mtimes="preserve")
    theirs = time.perf_counter() - t
    out |= {"nexuslims_s": theirs, "ratio": theirs / ours}
    _report("record build, NexusLIMS 2.8.0", theirs, "s", "", str({k: v for k, v in (base or {}).items() if k != "xml"})[:80])
    from common import report

    report("record build end to end (NexusLIMS / ours)", ours, theirs, 5)
    db.dispose()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=os.environ.get("NXHUB_EM_CORPUS", str(Path(__file__).resolve().parents[2] / "shared" / "em-corpus")))
    parser.add_argument("--files", type=int, default=1_000_000, help="indexed files for the lookup benchmark")
    parser.add_argument("--tree", type=int, default=100_000, help="files in the generated tree for the scan benchmark")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nxbench-build-") as tmp_name:
        tmp = Path(tmp_name)
        for sub in ("lookup", "scan", "record"):
            (tmp / sub).mkdir()
        bench_cluster()
        bench_lookup(tmp / "lookup", args.files)
        bench_scan(tmp / "scan", args.tree)
        if (Path(args.corpus) / "MANIFEST.tsv").is_file():
            bench_record(tmp / "record", Path(args.corpus))
        else:
            print(f"corpus not found at {args.corpus}: record build benchmark skipped")


if __name__ == "__main__":
    main()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import summary

    sys.exit(summary())
