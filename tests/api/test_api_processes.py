"""`nxhub api serve --processes N`: N worker processes share one port, and stop together."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psutil

from nexuslims_kernel.db.api_tokens import create_api_token
from nexuslims_kernel.db.directory import add_person

NXHUB = [sys.executable, "-m", "nexuslims_kernel.cli.main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _busy(procs: list[psutil.Process]) -> dict[int, float]:
    """CPU seconds each worker has used: an idle worker's stays put."""
    return {p.pid: sum(p.cpu_times()[:2]) for p in procs}


def test_several_processes_share_the_port_and_all_answer(db, env_for_cli) -> None:
    with db.session(write=True) as sess:
        add_person(sess, "alice")
        token = create_api_token(sess, "alice", "test")
    port = _free_port()
    proc = subprocess.Popen([*NXHUB, "api", "serve", "--port", str(port), "--processes", "2"], env=env_for_cli,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/api/v1/me"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(200):
            try:
                if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        workers = psutil.Process(proc.pid).children()
        assert len(workers) == 2
        listening = {c.laddr.port for w in workers for c in w.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
        assert listening == {port}  # one socket, inherited by both, not two ports
        before = _busy(workers)

        def fetch(_: int) -> str:
            with httpx.Client(headers=headers, timeout=10) as client:  # a new connection each: the kernel spreads them
                return client.get(url).json()["username"]

        with ThreadPoolExecutor(16) as pool:
            names = list(pool.map(fetch, range(200)))
        assert names == ["alice"] * 200  # the token written by another process is valid in every worker
        after = _busy(workers)
        assert all(after[pid] > before[pid] for pid in before), "a worker process never answered"
    finally:
        proc.terminate()
        proc.wait(20)
    time.sleep(0.5)
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers), "a worker outlived the server"


def test_forty_people_signing_in_at_once_all_get_answers(db, env_for_cli) -> None:
    """Each token's first use records it; two processes doing that at once must not turn a read into a 503."""
    with db.session(write=True) as sess:
        tokens = []
        for i in range(40):
            add_person(sess, f"user{i}")
            tokens.append(create_api_token(sess, f"user{i}", "test"))
    port = _free_port()
    proc = subprocess.Popen([*NXHUB, "api", "serve", "--port", str(port), "--processes", "2"], env=env_for_cli,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)

        def visit(token: str) -> list[int]:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
                return [client.get(path).status_code for path in ("/me", "/records", "/records/facets")]

        with ThreadPoolExecutor(40) as pool:
            codes = [code for answer in pool.map(visit, tokens) for code in answer]
        assert codes == [200] * 120, sorted(set(codes))
    finally:
        proc.terminate()
        proc.wait(20)
