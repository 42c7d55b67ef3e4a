"""``make run`` from a clean clone, as the README's first command: up, healthy, a demo user signs in, Ctrl-C, nothing left.

The clone installs its own ``.venv`` (minutes even with warm package caches), so this is one
test on its own xdist group; ``benchmarks/bench_hub.py --make-run`` times the same path.
"""

from __future__ import annotations

import shutil
import signal
from contextlib import closing

import psutil
import pytest
from hubkit import MakeRun

from nexuslims_kernel.cli.ports import bind_problem

pytestmark = pytest.mark.xdist_group("make-run")


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None or shutil.which("npm") is None,
                    reason="make run needs make, git and npm (the README's prerequisites)")
def test_make_run_from_a_clean_clone(tmp_path):
    run = MakeRun(tmp_path)
    try:
        run.wait_for(r"Ctrl-C stops everything", timeout=1200)
        assert (run.clone / ".venv" / "bin" / "nxhub").exists()  # its own venv, not this checkout's
        commands = [" ".join(p.cmdline()) for p in run.seen if p.is_running()]
        pythons = [c for c in commands if "/bin/python" in c.split(" ", 1)[0]]
        assert any(c.endswith("nxhub up") for c in commands), commands
        assert pythons and all(c.startswith(f"{run.clone}/.venv/bin/python") for c in pythons), pythons
        logins = run.logins()
        with closing(run.sign_in("alice", logins["alice"])) as alice:
            home = alice.get("/hub/home")
            assert home.status_code == 200 and str(home.url).endswith("/hub/home") and "alice" in home.text
            assert alice.get("/hub/api/").status_code == 200
            # the API service signs her in through the hub's OAuth, as the pages' links do
            me = alice.get("/services/nxhub-api/login", params={"next": "/services/nxhub-api/api/v1/me"})
            assert me.status_code == 200 and me.json()["username"] == "alice", me.text[:300]
        with closing(run.sign_in("alice", "not-her-password")) as stranger:
            assert not str(stranger.get("/hub/home").url).endswith("/hub/home")
    finally:
        code, leftovers = run.stop(signal.SIGINT)
    assert not leftovers, f"make run left processes running: {leftovers}"
    assert "stopped; no process left running" in run.log(), run.log()[-3000:]
    left = [p.info for p in psutil.process_iter(["pid", "cmdline"]) if str(run.clone) in " ".join(p.info["cmdline"] or [])]
    assert not left, left
    for port in run.ports.values():  # every port can be bound again
        assert bind_problem("127.0.0.1", port) is None, port
