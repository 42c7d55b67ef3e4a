"""Real `nxhub worker` processes share one queue: every session is built exactly once,
and a session whose worker is killed -9 mid-build is reclaimed and finished by another.

Builds are counted twice: from nxhub's own status events, and from outside its bookkeeping by the
installed counting extractor (tests/plugins), which logs every read of a session's file.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from buildkit import T0, add_sessions, add_store, touch
from pluginkit import plugin_env
from sqlalchemy import func, select

from nexuslims_kernel.db.models import InstrumentSession, Record, SessionEvent

N_SESSIONS = 200
WITH_FILES = 4  # the first sessions have a file: their build starts an extraction pool (slow enough to kill)


def _start_workers(n: int, env: dict[str, str], log_dir: Path) -> dict[str, subprocess.Popen]:
    procs = {}
    for i in range(n):
        name = f"w{i}"
        log = (log_dir / f"{name}.log").open("w")
        procs[name] = subprocess.Popen([sys.executable, "-m", "nexuslims_kernel.cli.main", "worker", "--id", name],
                                       env=env, stdout=log, stderr=subprocess.STDOUT)
    return procs


def _status_counts(db) -> dict[str, int]:
    with db.session() as sess:
        return dict(sess.execute(select(InstrumentSession.status, func.count()).group_by(InstrumentSession.status)).all())


def test_workers_build_each_session_exactly_once_even_when_one_is_killed(db, db_url, env_for_cli, counting_plugin: Path,
                                                                       tmp_path: Path) -> None:
    root = tmp_path / "store"
    inst = add_store(db, root)
    starts = [T0 + dt.timedelta(hours=3 * i) for i in range(N_SESSIONS)]
    ids = add_sessions(db, inst, starts, hours=1)
    for i in range(WITH_FILES):
        path = root / f"s{i}" / "frame.count"
        path.parent.mkdir(parents=True)
        path.write_text(f"COUNT session {i}\n")
        touch(path, starts[i] + dt.timedelta(minutes=10))
    n_workers = 4 if db.dialect == "postgresql" else 2
    count_log = tmp_path / "extractions.log"
    env = plugin_env(env_for_cli, counting_plugin, count_log) | {"NXHUB_BUILD_RECLAIM_AFTER_S": "2", "NXHUB_BUILD_HEARTBEAT_S": "0.3",
                         "NXHUB_BUILD_NO_FILES_WAIT_S": "0", "NXHUB_EXTRACT_WORKERS": "1", "NXHUB_LOG_LEVEL": "WARNING"}
    procs = _start_workers(n_workers, env, tmp_path)
    victim = victim_session = None
    try:
        deadline = time.time() + 40
        while victim is None and time.time() < deadline:
            with db.session() as sess:
                row = sess.execute(select(InstrumentSession.id, InstrumentSession.claimed_by).where(
                    InstrumentSession.status == "BUILDING", InstrumentSession.id.in_(ids[:WITH_FILES]))).first()
            if row is not None and row.claimed_by in procs:
                victim, victim_session = row.claimed_by, row.id
                os.kill(procs[victim].pid, signal.SIGKILL)
            else:
                time.sleep(0.05)
        assert victim is not None, "no worker was caught building a session with files"
        procs[victim].wait(10)
        deadline = time.time() + 50
        while time.time() < deadline:
            counts = _status_counts(db)
            if counts.get("COMPLETED", 0) + counts.get("NO_FILES", 0) == N_SESSIONS:
                break
            time.sleep(0.3)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # graceful stop
        for proc in procs.values():
            proc.wait(30)

    logs = "\n".join((tmp_path / f"{name}.log").read_text()[-2000:] for name in procs)
    assert _status_counts(db) == {"COMPLETED": WITH_FILES, "NO_FILES": N_SESSIONS - WITH_FILES}, logs
    assert all(p.returncode == 0 for name, p in procs.items() if name != victim), logs
    with db.session() as sess:
        events = sess.execute(select(SessionEvent.session_id, SessionEvent.to_status, SessionEvent.actor,
                                     SessionEvent.payload).where(SessionEvent.kind == "STATUS")).all()
        assert sess.scalar(select(func.count()).select_from(Record)) == WITH_FILES
    finished = {sid: 0 for sid in ids}
    claims = {sid: [] for sid in ids}
    for sid, to_status, actor, _payload in events:
        if to_status in ("COMPLETED", "NO_FILES"):
            finished[sid] += 1
        if to_status == "BUILDING":
            claims[sid].append(actor)
    assert set(finished.values()) == {1}, "a session was finished twice or never"
    assert all(len(c) == 1 for sid, c in claims.items() if sid != victim_session)
    assert claims[victim_session][0] == victim and len(claims[victim_session]) == 2
    assert claims[victim_session][1] != victim
    reclaims = [p for sid, to, _a, p in events if sid == victim_session and to == "TO_BE_BUILT"]
    assert reclaims == [{"reason": f"worker {victim} stopped heartbeating"}]
    extractions = [line.split("\t")[0] for line in count_log.read_text().splitlines()]
    for i in range(WITH_FILES):
        reads = extractions.count(str(root / f"s{i}" / "frame.count"))
        # the killed worker may have read its file before dying; nobody else reads a file twice
        assert reads == 1 or (ids[i] == victim_session and reads == 2), f"session {ids[i]}'s file was read {reads} times"
    used = {a for c in claims.values() for a in c}
    assert len(used) >= 2  # the queue really was shared
