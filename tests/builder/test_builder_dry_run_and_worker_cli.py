"""`nxhub build --dry-run` shows files by activity; `nxhub worker` says when it claims and finishes a session."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

from buildkit import T0, add_sessions, add_store, touch
from sqlalchemy import func, select

from nexuslims_kernel.db.models import InstrumentSession, Record

MIN = dt.timedelta(minutes=1)


def _files(root: Path, names_and_minutes: list[tuple[str, int]]) -> None:
    for name, minutes in names_and_minutes:
        path = root / "day" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not an EM file, but a file")
        touch(path, T0 + minutes * MIN)


def _nxhub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_dry_run_shows_files_by_activity_and_changes_nothing(db, settings, tmp_path: Path, env_for_cli) -> None:
    root = tmp_path / "store"
    (sid,) = add_sessions(db, add_store(db, root), [T0], hours=3)
    _files(root, [("a1.dat", 10), ("a2.dat", 12), ("a3.dat", 13), ("b1.dat", 120), ("b2.dat", 122)])

    proc = _nxhub(env_for_cli, "--json", "build", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    (plan,) = json.loads(proc.stdout)
    assert (plan["session"], plan["files"], plan["n_activities"]) == (sid, 5, 2)
    assert [[f["relpath"] for f in a["files"]] for a in plan["activities"]] == [
        ["day/a1.dat", "day/a2.dat", "day/a3.dat"], ["day/b1.dat", "day/b2.dat"]]
    assert plan["activities"][1]["start"] == (T0 + 120 * MIN).isoformat()

    text = _nxhub(env_for_cli, "build", "--dry-run").stdout
    assert "day/b2.dat" in text and f"Session {sid}: files by activity" in text
    with db.session() as sess:
        assert sess.get(InstrumentSession, sid).status == "TO_BE_BUILT"
        assert sess.scalar(select(func.count()).select_from(Record)) == 0


def test_worker_prints_a_line_when_it_claims_and_when_it_finishes(db, settings, tmp_path: Path, env_for_cli) -> None:
    root = tmp_path / "store"
    (sid,) = add_sessions(db, add_store(db, root), [T0], hours=3)
    _files(root, [("a1.dat", 10)])
    env = dict(env_for_cli, NXHUB_LOG_LEVEL="WARNING")  # the lines are the worker's own, not log records
    proc = subprocess.Popen([sys.executable, "-m", "nexuslims_kernel.cli.main", "worker"], env=env,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line.strip())
            if "COMPLETED" in line:
                break
        assert proc.poll() is None, "the worker should still be running: lines come as work happens"
    finally:
        proc.terminate()
        proc.wait(30)
    claimed = [i for i, line in enumerate(lines) if line.endswith(f"claimed session {sid}")]
    done = [i for i, line in enumerate(lines) if f"session {sid} COMPLETED" in line]
    assert claimed and done and claimed[0] < done[0], lines
    assert "record 1, 1 files" in lines[done[0]]
