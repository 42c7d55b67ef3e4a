"""Bad input never crashes the caller: each file gets an error with a reason, nothing hangs."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nexuslims_kernel.extract import extract_file

CORPUS_FILE = "rosettasciio/dm/test_STEM_image.dm3"


def _dm3(tmp_path: Path) -> Path:
    """A file written by HyperSpy/rosettasciio's HSPY writer (no corpus needed)."""
    import hyperspy.api as hs

    path = tmp_path / "written.hspy"
    hs.signals.Signal2D(np.arange(64 * 64, dtype="float32").reshape(64, 64)).save(path, overwrite=True)
    return path


def _truncate(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def test_zero_byte(tmp_path):
    path = tmp_path / "empty.dm3"
    path.touch()
    res = extract_file(path)
    assert res.error == "empty file (0 bytes)"


def test_random_bytes_with_valid_extension(tmp_path):
    path = tmp_path / "noise.dm3"
    path.write_bytes(np.random.default_rng(0).bytes(20000))
    res = extract_file(path)
    assert res.error and "DM3" in res.error.upper()
    assert "\n" not in res.error


def test_directory_named_like_a_file(tmp_path):
    (tmp_path / "x.dm3").mkdir()
    assert extract_file(tmp_path / "x.dm3").error == "is a directory, not a file"


def test_missing_file(tmp_path):
    assert "not found" in extract_file(tmp_path / "gone.emi").error


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: file permissions do not block reads")
def test_unreadable_permissions(tmp_path):
    path = tmp_path / "locked.dm3"
    path.write_bytes(b"\x00\x00\x00\x03" + b"\x00" * 100)
    path.chmod(0)
    assert extract_file(path).error == "permission denied"


def test_unreadable_reported_even_as_root(tmp_path, monkeypatch):
    """As root chmod cannot block reads, so make opening fail the way EACCES does."""
    import builtins

    path = tmp_path / "locked.dm3"
    path.write_bytes(b"\x00\x00\x00\x03" + b"\x00" * 100)
    real_open = builtins.open

    def guarded(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    assert extract_file(path).error == "permission denied"


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_written_file(tmp_path, fraction):
    cut = _truncate(_dm3(tmp_path), tmp_path / f"cut{int(fraction * 100)}.hspy", fraction)
    res = extract_file(cut)
    assert res.error, res.to_dict()


@pytest.mark.corpus
@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_corpus_file(corpus, tmp_path, fraction):
    cut = _truncate(corpus / CORPUS_FILE, tmp_path / "cut.dm3", fraction)
    res = extract_file(cut)
    assert res.error, res.to_dict()
    assert res.error.splitlines() == [res.error]


def test_batch_of_bad_files_finishes(pool, tmp_path):
    empty = tmp_path / "empty.emi"
    empty.touch()
    noise = tmp_path / "noise.tif"
    noise.write_bytes(b"II*\x00" + np.random.default_rng(1).bytes(5000))
    (tmp_path / "d.dm3").mkdir()
    good = _dm3(tmp_path)
    started = time.monotonic()
    results = {Path(r.path).name: r for r in pool.imap([empty, noise, tmp_path / "d.dm3", good], preview_dir=tmp_path)}
    assert time.monotonic() - started < 30
    assert results["empty.emi"].error and results["noise.tif"].error and results["d.dm3"].error
    assert results["written.hspy"].error is None and results["written.hspy"].datasets[0].preview


def test_hang_is_killed_at_timeout_and_worker_replaced(pool, tmp_path):
    slow = tmp_path / "a.slowtest"
    slow.write_text("x")
    good = _dm3(tmp_path)
    started = time.monotonic()
    results = {Path(r.path).suffix: r for r in pool.imap([slow, good])}
    elapsed = time.monotonic() - started
    assert "timed out" in results[".slowtest"].error
    assert results[".hspy"].error is None
    assert elapsed < pool.timeout_s + 10
    assert len(pool.worker_pids()) == 2


def test_worker_killed_mid_file(pool, tmp_path):
    slow = tmp_path / "b.slowtest"
    slow.write_text("x")

    def kill_busy() -> None:
        for _ in range(100):
            pids = pool.busy_pids()
            if pids:
                time.sleep(0.3)
                os.kill(pids[0], signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_busy)
    killer.start()
    (res,) = list(pool.imap([slow]))
    killer.join()
    assert "SIGKILL" in res.error


def test_crash_and_memory_limit_give_errors(pool, tmp_path):
    crash = tmp_path / "c.crashtest"
    hog = tmp_path / "d.hogtest"
    for p in (crash, hog):
        p.write_text("x")
    results = {Path(r.path).suffix: r for r in pool.imap([crash, hog])}
    assert "SIGSEGV" in results[".crashtest"].error
    assert "memory" in results[".hogtest"].error


def test_file_deleted_while_queued(pool, tmp_path):
    files = []
    for i in range(6):
        files.append(_dm3(tmp_path).rename(tmp_path / f"f{i}.hspy"))
    gen = pool.imap(files)
    first = next(gen)
    doomed = [f for f in files if str(f) != first.path][-1]
    doomed.unlink()
    rest = {r.path: r for r in gen}
    assert "not found" in rest[str(doomed)].error
    assert len(rest) == 5
