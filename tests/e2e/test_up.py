"""``nxhub up`` (what ``make run`` starts) from an empty data directory on free ports, end to end.

One real hub for the module (starting one costs seconds on a busy machine), so the
whole life of the command is one test: first start, sign-in over HTTP, a component
restarted after it dies, ``nxhub doctor`` healthy and then finding three planted
faults, and Ctrl-C leaving no process behind.
"""

from __future__ import annotations

import html
import os
import re
import signal
import sqlite3
import stat
from contextlib import closing

import httpx
import psutil
import pytest
from hubkit import UpProcess

from nexuslims_kernel.hub.ports import port_problem


def _component_pid(up: UpProcess, name: str) -> int:
    return int(up.wait_for(rf"^status\s+\| {name}\s+running\s+pid (\d+)").group(1))


def _doctor(up: UpProcess) -> tuple[int, str]:
    run = up.nxhub("doctor", "--port", str(up.ports["PORT"]))
    return run.returncode, run.stdout + run.stderr


def _login_error(client, username: str, password: str) -> str:
    form = client.get("/hub/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    page = client.post("/hub/login", data={"username": username, "password": password, "_xsrf": xsrf})
    found = re.search(r'<p class="login_error">\s*(.*?)\s*</p>', page.text, re.DOTALL)
    return html.unescape(found.group(1)) if found else ""


def _sign_up_approval_and_the_person_link(up: UpProcess, admin_password: str) -> None:
    """Sign-up, approval by an admin, refusal while not an nxhub user (create_people off), then in."""
    with closing(httpx.Client(base_url=up.base, follow_redirects=True, timeout=60)) as dave:
        form = dave.get("/hub/signup")
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
        done = dave.post("/hub/signup", data={"username": "dave", "signup_password": "correct-horse-9",
                                              "signup_password_confirmation": "correct-horse-9", "_xsrf": xsrf})
        assert done.status_code == 200 and "alert-info" in done.text
        assert "has not been authorized by an administrator" in _login_error(dave, "dave", "correct-horse-9")
        with closing(up.sign_in("admin", admin_password)) as admin:
            assert admin.get("/hub/authorize/dave").status_code == 200
        refusal = _login_error(dave, "dave", "correct-horse-9")
        assert "no user of that name" in refusal and "nxhub users add dave" in refusal, refusal
        added = up.nxhub("users", "add", "dave")
        assert added.returncode == 0, added.stderr
        assert _login_error(dave, "dave", "correct-horse-9") == ""
        assert dave.get("/hub/home").status_code == 200 and "/hub/home" in str(dave.get("/hub/home").url)


@pytest.mark.slow
def test_up_from_nothing_serves_signs_in_heals_diagnoses_and_stops_clean(tmp_path) -> None:
    up = UpProcess(tmp_path, extra_env={"NXHUB_HUB_CREATE_PEOPLE": "0"})
    try:
        up.wait_for(r"NexusLIMS Hub is up: (http://127\.0\.0\.1:\d+/)")
        up.wait_for(r"Ctrl-C stops everything")
        log = up.log()
        # First start: data dir, database, demo facility, sign-ins printed and kept private.
        assert f"NexusLIMS Hub is up: {up.base}/" in log
        logins = up.logins()
        assert set(logins) == {"admin", "alice", "bob", "carol", "dana"}  # dana: the demo facility's own administrator
        for name, password in logins.items():
            assert f"{name:<8} {password}" in log
        assert stat.S_IMODE((up.data_dir / "demo-logins.txt").stat().st_mode) == 0o600
        assert stat.S_IMODE(up.data_dir.stat().st_mode) == 0o700
        # One stream, each line named by its component; a status line per component. The helpers start once
        # the hub runs, so the watcher speaks after the hub.
        assert "\nhub      | " in log
        up.wait_for(r"^watcher  \| watching the file stores of Demo-SEM, Demo-TEM")
        log = up.log()
        assert log.index("\nhub      | ") < log.index("\nwatcher  | ")
        for name in ("hub", "worker", "watcher"):
            assert _component_pid(up, name) > 0

        # A demo user signs in over plain HTTP; a wrong password does not.
        with closing(up.sign_in("alice", logins["alice"])) as alice:
            home = alice.get("/hub/home")
            assert home.status_code == 200 and str(home.url).endswith("/hub/home")
            assert "Browse records" in home.text and "My sessions" in home.text and "JupyterLab" in home.text
            me = alice.get("/hub/api/user", headers={"X-XSRFToken": alice.cookies.get("_xsrf", path="/hub/") or ""})
            assert me.json()["name"] == "alice" and me.json()["admin"] is False
            assert "materials-lab" in me.json()["groups"]  # nxhub groups mirrored into the hub
        with closing(up.sign_in("bob", "not-his-password")) as intruder:
            assert "/hub/login" in str(intruder.get("/hub/home").url)
        with closing(up.sign_in("admin", logins["admin"])) as admin:
            assert admin.get("/hub/authorize").status_code == 200  # admins approve sign-ups

        _sign_up_approval_and_the_person_link(up, logins["admin"])

        # A component that dies is reported and restarted.
        worker = _component_pid(up, "worker")
        mark = len(up.log())
        os.kill(worker, signal.SIGKILL)
        up.wait_for(r"worker exited with code -9 .*restarting in [\d.]+ s", after=mark)
        up.wait_for(r"worker\s+running\s+pid \d+, restarts 1", after=mark)

        # doctor: everything passes while healthy...
        code, out = _doctor(up)
        assert code == 0, out
        # ...then a stopped proxy, a wrong schema revision and an unreadable store, each with its fix.
        proxy = psutil.Process(int((up.data_dir / "hub" / "proxy.pid").read_text()))
        with sqlite3.connect(up.data_dir / "nxhub.db") as conn:
            head = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            conn.execute("UPDATE alembic_version SET version_num = '0000wrong'")
            conn.execute("UPDATE instruments SET filestore_root = ? WHERE name = 'Demo-SEM'", (str(tmp_path / "unmounted"),))
        proxy.suspend()
        try:
            code, out = _doctor(up)
        finally:
            proxy.resume()
            with sqlite3.connect(up.data_dir / "nxhub.db") as conn:
                conn.execute("UPDATE alembic_version SET version_num = ?", (head,))
        assert code == 1, out
        assert "FAIL  proxy" in out and "the proxy is not running" in out
        assert "FAIL  schema revision" in out and "0000wrong" in out and "fix: nxhub db upgrade" in out
        assert "FAIL  store Demo-SEM" in out and "nxhub instruments edit Demo-SEM --filestore" in out
        assert "ok    store Demo-TEM" in out and "ok    API service" in out
    finally:
        code, leftovers = up.stop(signal.SIGINT)
    assert code == 0, up.log()[-3000:]
    assert not leftovers, f"nxhub up left processes running: {leftovers}"
    assert "stopped; no process left running" in up.log()
    assert port_problem("127.0.0.1", up.ports["PORT"]) is None
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{up.base}/hub/api/", timeout=2)
