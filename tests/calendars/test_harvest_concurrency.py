"""`nxhub harvest` twice, and from two processes at once: never a duplicate session (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from calkit import add_nemo_instrument, nemo_facility, reservations, sessions

UTC = dt.UTC


def _nxhub(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_at_once_then_again_make_each_session_once(db, nemo_factory, monkeypatch, env_for_cli) -> None:
    nemo = nemo_factory("America/Chicago")
    ids = nemo_facility(nemo)
    start = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(days=5)
    ops = []
    for i in range(40):
        t0 = start + dt.timedelta(hours=2 * i)
        ops.append({"op": "usage", "tool": ids["tool"], "user": ids["alice" if i % 2 else "bob"], "project": ids["project"],
                    "start": t0.isoformat(), "end": (t0 + dt.timedelta(minutes=90)).isoformat()})
        ops.append({"op": "reservation", "tool": ids["tool"], "user": ids["alice"], "project": ids["project"],
                    "start": t0.isoformat(), "end": (t0 + dt.timedelta(hours=2)).isoformat()})
    nemo.seed(*ops)
    add_nemo_instrument(db, monkeypatch, "TEM-1", nemo, ids["tool"], page_size=7)  # several pages each
    env = {**env_for_cli, f"NXHUB_TEST_NEMO_TOKEN_{nemo.port}": nemo.token}
    procs = [_nxhub(env, "harvest"), _nxhub(env, "harvest")]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(nemo.token not in out + err for out, err in outs)
    created = sorted(int(err.split(": ", 1)[1].split(" new")[0]) for _, err in outs)
    assert created == [0, 40]  # one process stored them, the other found them stored
    again = _nxhub(env, "--json", "harvest")
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    [src] = json.loads(out)["sources"]
    assert src["created"] == 0 and src["updated"] == 0 and src["requests"] == 2  # a quick pass: one page each
    got = sessions(db, "nemo")
    assert len(got) == 40 and len({s.external_id for s in got}) == 40
    assert len(reservations(db)) == 40
