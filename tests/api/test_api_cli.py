"""`nxhub api token create` and `nxhub api serve` as real subprocesses."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from nexuslims_kernel.db.directory import add_person

NXHUB = [sys.executable, "-c", "from nexuslims_kernel.cli.main import main; main()"]


def test_token_create_and_serve(db, env_for_cli) -> None:
    with db.session(write=True) as sess:
        add_person(sess, "alice")
    out = subprocess.run([*NXHUB, "api", "token", "create", "alice", "--name", "laptop"], env=env_for_cli, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert token.startswith("nxh_") and "shown only now" in out.stderr
    missing = subprocess.run([*NXHUB, "api", "token", "create", "nobody"], env=env_for_cli, capture_output=True, text=True)
    assert missing.returncode == 4 and missing.stderr.startswith("nxhub: error: no user named 'nobody'")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*NXHUB, "api", "serve", "--port", str(port)], env=env_for_cli, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                me = httpx.get(f"http://127.0.0.1:{port}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert me.json()["username"] == "alice"
    finally:
        proc.terminate()
        proc.wait(10)
