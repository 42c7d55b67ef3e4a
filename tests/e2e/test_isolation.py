"""A person's notebook sees only what the person may see: checked from inside a real kernel.

``nxhub up`` runs as it would for a facility (CI runs as root: one OS account per person) and
with the bubblewrap sandbox forced; bob, an ordinary demo user, spawns his server and runs code
that tries every hub file, the DB, the cookie secret, another home, every raw file of the
stores and every other process's environment. All must fail, while his own home is writable
and the catalog still gives him his records and files through the API.
"""

from __future__ import annotations

import html
import json
import os
import signal
import sqlite3
import stat
from contextlib import closing

import psutil
import pytest
from hubkit import UpProcess
from kernelkit import run_in_kernel, spawn, token

from nexuslims_kernel.config import load_settings
from nexuslims_kernel.hub.isolation import IsolationError, resolve

PROBE = r'''
import json, os
targets, pids = json.loads(TARGETS), json.loads(PIDS)
seen = {}
for path in targets:
    try:
        with open(path, "rb") as fh:
            fh.read(1)
        seen[path] = "read"
    except PermissionError:
        seen[path] = "denied"
    except (FileNotFoundError, NotADirectoryError):
        seen[path] = "missing"
environ = {}
for pid in pids:
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            environ[pid] = "read" if fh.read() else "empty"
    except PermissionError:
        environ[pid] = "denied"
    except (FileNotFoundError, ProcessLookupError):
        environ[pid] = "missing"
home = os.path.expanduser("~")
with open(os.path.join(home, "mine.txt"), "w") as fh:
    fh.write("bob's own")
from nexuslims_kernel import open_catalog
catalog = open_catalog()
records = list(catalog.records())
first = next(d for r in records for d in r.datasets)
raw = catalog.client.bytes(f"/datasets/{first.id}/file")
print(json.dumps({"seen": seen, "environ": environ, "home": home, "uid": os.getuid(), "records": len(records),
                  "file_bytes": len(raw), "visible_pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}))
'''


def _store_roots(data_dir) -> list[str]:
    with closing(sqlite3.connect(data_dir / "nxhub.db")) as conn:
        return [row[0] for row in conn.execute("SELECT filestore_root FROM instruments WHERE filestore_root IS NOT NULL")]


def _targets(up: UpProcess, bob_home) -> list[str]:
    """Every file of the data dir that is not bob's own, and every raw file of every store."""
    out = []
    for root in [str(up.data_dir), *_store_roots(up.data_dir)]:
        for dirpath, _dirs, files in os.walk(root):
            out += [os.path.join(dirpath, f) for f in files if not os.path.join(dirpath, f).startswith(str(bob_home))]
    return sorted(set(out))


def _server_pid(up: UpProcess, home) -> int:
    """bob's server as the hub started it: the outermost process whose command names his home (the sandbox's)."""
    ours = {p.pid: p for p in psutil.Process(up.proc.pid).children(recursive=True) if str(home) in " ".join(p.cmdline())}
    outermost = [pid for pid, proc in ours.items() if proc.ppid() not in ours]
    assert len(outermost) == 1, f"bob's server: {outermost}"
    return outermost[0]


def _outside_pids(up: UpProcess, bob_server_pid: int) -> list[int]:
    """The hub's processes (hub, proxy, API, worker, ...), not bob's server and its kernels."""
    server = psutil.Process(bob_server_pid)
    mine = {server.pid, *(p.pid for p in server.children(recursive=True))}
    hub = psutil.Process(up.proc.pid)
    return [p.pid for p in [hub, *hub.children(recursive=True)] if p.pid not in mine]


def _spawn_and_probe(up: UpProcess, mode: str) -> dict:
    up.wait_for(r"Ctrl-C stops everything")
    assert f"isolation {mode}" in up.log()
    logins = up.logins()
    other_home = up.data_dir / "hub" / "home" / "carol"
    other_home.mkdir(parents=True, exist_ok=True)
    (other_home / "private.ipynb").write_text("carol's notes")
    with closing(up.sign_in("bob", logins["bob"])) as bob:
        started = spawn(bob, "bob")
        assert started.status_code < 400, started.text
        bob_home = up.data_dir / "hub" / "home" / "bob"
        server_pid = _server_pid(up, bob_home)
        targets, pids = _targets(up, bob_home), _outside_pids(up, server_pid)
        assert any(t.endswith("cookie_secret") for t in targets) and any(t.endswith("nxhub.db") for t in targets)
        assert len(targets) > 20 and len(pids) >= 4
        code = f"TARGETS = {json.dumps(json.dumps(targets))}\nPIDS = {json.dumps(json.dumps(pids))}\n" + PROBE
        out = run_in_kernel(up.base, "bob", token(bob, "bob"), code)
    result = json.loads(out.strip().splitlines()[-1])
    result["bob_home"], result["server_pid"] = bob_home, server_pid
    return result


def _assert_isolated(result: dict, readable: tuple[str, ...] = ()) -> None:
    leaked = {path: how for path, how in result["seen"].items() if how == "read" and not path.startswith(readable)}
    assert not leaked, f"bob's kernel read {len(leaked)} files it must not: {sorted(leaked)[:10]}"
    read_environ = {pid: how for pid, how in result["environ"].items() if how in ("read", "empty")}
    assert not read_environ, f"bob's kernel read the environment of {read_environ}"
    assert result["uid"] != 0
    assert (result["bob_home"] / "mine.txt").read_text() == "bob's own"
    assert result["records"] > 0 and result["file_bytes"] > 0  # the API still serves him his records and files


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="one OS account per person needs the hub to run as root (CI does)")
def test_accounts_mode_a_notebook_reads_only_its_home_and_the_api(tmp_path) -> None:
    up = UpProcess(tmp_path)
    try:
        result = _spawn_and_probe(up, "accounts")
        _assert_isolated(result)
        home = result["bob_home"]
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        import pwd

        assert pwd.getpwuid(home.stat().st_uid).pw_name == "nx-bob" == pwd.getpwuid(result["uid"]).pw_name
        assert stat.S_IMODE(up.data_dir.stat().st_mode) == 0o700
        for secret in ("nxhub.db", "demo-logins.txt", "hub/cookie_secret", "hub/jupyterhub.sqlite"):
            assert stat.S_IMODE((up.data_dir / secret).stat().st_mode) == 0o600, secret
        # bob leaves the facility with --purge: server stopped, home and account gone, his records kept
        removed = up.nxhub("users", "remove", "bob", "--purge")
        assert removed.returncode == 0, removed.stderr
        assert "stopped their server" in removed.stdout and "their OS account" in removed.stdout
        assert not psutil.pid_exists(result["server_pid"]) and not home.exists()
        with pytest.raises(KeyError):
            pwd.getpwnam("nx-bob")
    finally:
        code, leftovers = up.stop(signal.SIGINT)
    assert not leftovers, leftovers


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="one OS account per person needs the hub to run as root (CI does)")
def test_shared_mount_a_notebook_reads_the_stores_and_nothing_else(tmp_path) -> None:
    up = UpProcess(tmp_path, extra_env={"NXHUB_HUB_FILE_ACCESS": "shared-mount"})
    try:
        result = _spawn_and_probe(up, "accounts")
        stores = tuple(_store_roots(up.data_dir))
        _assert_isolated(result, readable=stores)
        store_files = [path for path in result["seen"] if path.startswith(stores)]
        assert store_files and all(result["seen"][path] == "read" for path in store_files)
        others = [path for path in result["seen"] if not path.startswith(stores)]
        assert others and not any(result["seen"][path] == "read" for path in others)
    finally:
        code, leftovers = up.stop(signal.SIGINT)
    assert not leftovers, leftovers


@pytest.mark.slow
def test_sandbox_mode_a_notebook_sees_no_hub_files_no_stores_and_no_other_process(tmp_path) -> None:
    settings = load_settings({"NXHUB_HUB_ISOLATION": "sandbox", "NXHUB_DATA_DIR": str(tmp_path)})
    try:
        resolve(settings)
    except IsolationError as exc:  # the machine cannot sandbox: say why
        pytest.skip(str(exc))
    up = UpProcess(tmp_path, extra_env={"NXHUB_HUB_ISOLATION": "sandbox"})
    try:
        result = _spawn_and_probe(up, "sandbox")
        _assert_isolated(result)
        assert all(how == "missing" for how in result["seen"].values())  # not even there, in the sandbox
        assert len(result["visible_pids"]) <= 6  # its own PID namespace: the sandbox's init, the server, the kernel
        # bob removed without --purge: his server stops, his notebooks stay for an admin to hand over
        removed = up.nxhub("users", "remove", "bob")
        assert removed.returncode == 0, removed.stderr
        assert "stopped their server" in removed.stdout and "is kept" in removed.stdout
        assert not psutil.pid_exists(result["server_pid"])
        assert (result["bob_home"] / "mine.txt").read_text() == "bob's own"
    finally:
        code, leftovers = up.stop(signal.SIGINT)
    assert not leftovers, leftovers


@pytest.mark.slow
def test_where_nothing_isolates_a_second_person_is_refused_and_every_page_says_so(tmp_path) -> None:
    """No root account tools on PATH and no bubblewrap: bob may start the one server; carol is told why not."""
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not p.rstrip("/").endswith("sbin"))
    up = UpProcess(tmp_path, extra_env={"NXHUB_HUB_BWRAP": str(tmp_path / "no-bwrap"), "PATH": path})
    try:
        up.wait_for(r"Ctrl-C stops everything")
        warning = [line for line in up.log().splitlines() if "WARNING: people's servers are not isolated" in line]
        assert len(warning) == 1 and "only one person may start a server" in warning[0]
        logins = up.logins()
        with closing(up.sign_in("bob", logins["bob"])) as bob:
            assert "not isolated on this hub" in bob.get("/hub/home").text
            assert spawn(bob, "bob").status_code < 400
        with closing(up.sign_in("carol", logins["carol"])) as carol:
            refused = spawn(carol, "carol")
            assert refused.status_code == 403, refused.text
            reason = refused.json()["message"]
            assert "cannot keep people's servers apart" in reason and "only bob may run one" in reason
            assert "\n" not in reason
            page = carol.get("/hub/spawn/carol")  # what her browser shows: the reason, not a bare "failed"
            assert "only bob may run one" in html.unescape(page.text)
        run = up.nxhub("doctor", "--port", str(up.ports["PORT"]))
        assert run.returncode == 1 and "FAIL  isolation" in run.stdout and "could read each other's files" in run.stdout
    finally:
        code, leftovers = up.stop(signal.SIGINT)
    assert not leftovers, leftovers
