"""Claims under time pressure, with builds counted outside nxhub's bookkeeping.

Real `nxhub worker` processes build sessions whose one file is read by the installed counting
extractor (tests/plugins), which appends a line per extraction to a log file and takes longer than
the reclaim time. A live worker must keep its claim by heartbeating; a worker that was paused long
enough to lose its claim must not write its record when it resumes.
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
from sqlalchemy import select

from nexuslims_kernel.db.models import InstrumentSession, Record, SessionEvent

RECLAIM_S = 1.5
SLOW_S = 4.0  # each extraction outlasts the reclaim time by far


def _session_with_slow_file(db, tmp_path: Path) -> tuple[int, Path]:
    root = tmp_path / "store"
    inst = add_store(db, root)
    (sid,) = add_sessions(db, inst, [T0], hours=1)
    path = root / "slow.count"
    path.write_text("COUNT slow one\n")
    touch(path, T0 + dt.timedelta(minutes=10))
    return sid, path


def _worker(name: str, env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    out = (log_dir / f"{name}.log").open("w")
    return subprocess.Popen([sys.executable, "-m", "nexuslims_kernel.cli.main", "worker", "--id", name],
                            env=env, stdout=out, stderr=subprocess.STDOUT)


def _claim(db, sid: int) -> tuple[str, str | None]:
    with db.session() as sess:
        row = sess.execute(select(InstrumentSession.status, InstrumentSession.claimed_by)
                           .where(InstrumentSession.id == sid)).one()
    return row.status, row.claimed_by


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _status_events(db, sid: int) -> list[tuple[str, str]]:
    with db.session() as sess:
        return [(r.to_status, r.actor) for r in sess.execute(
            select(SessionEvent.to_status, SessionEvent.actor)
            .where(SessionEvent.session_id == sid, SessionEvent.kind == "STATUS").order_by(SessionEvent.id))]


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _env(env_for_cli: dict[str, str], plugin: Path, log: Path) -> dict[str, str]:
    return plugin_env(env_for_cli, plugin, log, sleep_s=SLOW_S) | {
        "NXHUB_BUILD_RECLAIM_AFTER_S": str(RECLAIM_S), "NXHUB_BUILD_HEARTBEAT_S": "0.2",
        "NXHUB_EXTRACT_WORKERS": "1", "NXHUB_LOG_LEVEL": "INFO"}


def test_a_live_worker_keeps_its_claim_through_a_build_longer_than_the_reclaim_time(
        db, env_for_cli, counting_plugin: Path, tmp_path: Path) -> None:
    sid, path = _session_with_slow_file(db, tmp_path)
    log = tmp_path / "extractions.log"
    env = _env(env_for_cli, counting_plugin, log)
    first = _worker("first", env, tmp_path)
    procs = [first]
    try:
        _wait_for(lambda: _claim(db, sid) == ("BUILDING", "first"), 60, "the first worker's claim")
        procs.append(_worker("second", env, tmp_path))  # polls the queue and reclaims stale claims meanwhile
        _wait_for(lambda: _claim(db, sid)[0] == "COMPLETED", 90, "the build to finish")
        time.sleep(RECLAIM_S)  # give the second worker every chance to (wrongly) build it again
    finally:
        _stop(procs)
    logs = "\n".join((tmp_path / f"{n}.log").read_text()[-1500:] for n in ("first", "second"))
    assert _status_events(db, sid) == [("BUILDING", "first"), ("COMPLETED", "first")], logs
    assert log.read_text().count(str(path)) == 1, "the slow file was extracted by more than one build"


def test_a_worker_that_lost_its_claim_while_paused_does_not_write_its_record(
        db, env_for_cli, counting_plugin: Path, tmp_path: Path) -> None:
    sid, path = _session_with_slow_file(db, tmp_path)
    log = tmp_path / "extractions.log"
    env = _env(env_for_cli, counting_plugin, log)
    paused = _worker("paused", env, tmp_path)
    procs = [paused]
    try:
        _wait_for(lambda: _claim(db, sid) == ("BUILDING", "paused"), 60, "the first worker's claim")
        os.kill(paused.pid, signal.SIGSTOP)  # its heartbeat stops; its extraction child keeps going
        procs.append(_worker("holder", env, tmp_path))
        _wait_for(lambda: _claim(db, sid) == ("BUILDING", "holder"), 60, "the session to be reclaimed")
        os.kill(paused.pid, signal.SIGCONT)  # resumes while the new holder is still extracting
        _wait_for(lambda: _claim(db, sid)[0] == "COMPLETED", 90, "the build to finish")
        time.sleep(0.5)
    finally:
        _stop(procs)
    logs = "\n".join((tmp_path / f"{n}.log").read_text()[-1500:] for n in ("paused", "holder"))
    events = _status_events(db, sid)
    assert events == [("BUILDING", "paused"), ("TO_BE_BUILT", "holder"), ("BUILDING", "holder"),
                      ("COMPLETED", "holder")], logs
    assert "no longer claimed by paused" in logs  # it did reach the write, and was refused
    with db.session() as sess:
        assert len(sess.scalars(select(Record).where(Record.session_id == sid)).all()) == 1
    assert log.read_text().count(str(path)) == 2  # both read the file; only the claim holder wrote a record
