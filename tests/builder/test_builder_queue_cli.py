"""The queue's edge rules and the `nxhub index | sessions infer | build` commands, run as real processes."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from buildkit import T0, add_sessions, add_store, touch, tuned
from sqlalchemy import update

from nexuslims_kernel.builder import claim_next, reclaim_stale
from nexuslims_kernel.db.models import InstrumentSession
from nexuslims_kernel.sessions.machine import move


def nxhub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", "--json", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_claims_respect_not_before_and_stale_claims_end_in_error(db, settings, tmp_path: Path) -> None:
    inst = add_store(db, tmp_path / "store")
    first, second = add_sessions(db, inst, [T0, T0 + dt.timedelta(hours=5)])
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with db.session(write=True) as sess:
        sess.execute(update(InstrumentSession).where(InstrumentSession.id == first).values(not_before=future))
    assert claim_next(db, "a") == second
    assert claim_next(db, "b") is None
    fast = tuned(settings, reclaim_after_s=0.1, max_attempts=2)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    for attempt in (1, 2):
        with db.session(write=True) as sess:
            sess.execute(update(InstrumentSession).where(InstrumentSession.id == second).values(heartbeat_at=past))
        assert reclaim_stale(db, fast) == [second]
        with db.session() as sess:
            row = sess.get(InstrumentSession, second)
        if attempt == 1:
            assert (row.status, row.claimed_by, row.status_reason) == ("TO_BE_BUILT", None, "worker a stopped heartbeating")
            assert claim_next(db, "c") == second
    assert (row.status, row.attempts) == ("ERROR", 2)
    assert row.status_reason == "worker c stopped heartbeating; gave up after 2 attempts"


def test_index_infer_and_build_commands(db, env_for_cli, tmp_path: Path) -> None:
    root = tmp_path / "store"
    inst = add_store(db, root)
    (logged,) = add_sessions(db, inst, [T0], hours=1)
    for i in range(3):  # inside the logged session
        p = root / "a" / f"f{i}.txt"
        p.parent.mkdir(exist_ok=True)
        p.write_text("x")
        touch(p, T0 + dt.timedelta(minutes=5 + i))
    (root / "b").mkdir()
    for burst, hour in ((0, 6), (1, 9)):  # two bursts nobody logged
        for i in range(2):
            p = root / "b" / f"burst{burst}_{i}.txt"
            p.write_text("y")
            touch(p, T0 + dt.timedelta(hours=hour, minutes=i))
    out = nxhub(env_for_cli, "index", "Titan")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["added_or_changed"] == 7

    dry = nxhub(env_for_cli, "sessions", "infer", "Titan", "--gap", "60")
    assert dry.returncode == 0, dry.stderr
    proposals = json.loads(dry.stdout)
    assert [p["files"] for p in proposals] == [2, 2] and all(p["session"] is None for p in proposals)
    created = json.loads(nxhub(env_for_cli, "sessions", "infer", "Titan", "--gap", "60", "--create").stdout)
    again = json.loads(nxhub(env_for_cli, "sessions", "infer", "Titan", "--gap", "60", "--create").stdout)
    assert again == []  # the new sessions now cover those files
    new_ids = [p["session"] for p in created]

    plan = json.loads(nxhub(env_for_cli, "build", "--dry-run").stdout)
    assert {(r["session"], r["files"]) for r in plan} == {(logged, 3), (new_ids[0], 2), (new_ids[1], 2)}

    built = nxhub(env_for_cli, "build", "--session", str(new_ids[0]))
    assert built.returncode == 0, built.stderr
    (row,) = json.loads(built.stdout)
    assert (row["status"], row["files"], row["datasets"]) == ("COMPLETED", 2, 2)
    with db.session() as sess:
        assert sess.get(InstrumentSession, new_ids[0]).source == "inferred"
    bad = nxhub(env_for_cli, "build", "--session", "9999")
    assert bad.returncode == 4 and "session 9999 does not exist" in bad.stderr
    move(db, logged, "NO_CONSENT", actor="test")
    refused = nxhub(env_for_cli, "build", "--session", str(logged))
    assert refused.returncode == 6 and "NO_CONSENT" in refused.stderr
