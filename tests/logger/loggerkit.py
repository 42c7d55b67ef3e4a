"""Logger test helpers: a real API server that can go down and come back, config files, the CLI in a subprocess.

The Logger is its own distribution (``logger/``), not installed into the
project's venv: importing this module puts its folder on ``sys.path``;
subprocesses get it through ``PYTHONPATH``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOGGER_DIR = REPO / "logger"
for extra in (LOGGER_DIR, REPO / "tests" / "api"):  # the Logger package; apikit's live API server
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from apikit import ApiServer  # noqa: E402
from sqlalchemy import select  # noqa: E402

from nexuslims_kernel.db.directory import issue_instrument_token  # noqa: E402
from nexuslims_kernel.db.models import SessionEvent  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclasses.dataclass
class Hub:
    """A real API server on a fixed loopback port that a test can stop and start again."""

    settings: object
    db: object
    port: int
    token: str
    server: ApiServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> Hub:
        if self.server is None:
            self.server = ApiServer(self.settings, self.db, port=self.port)
        return self

    def down(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def revoke_token(self) -> str:
        with self.db.session(write=True) as sess:
            self.token = issue_instrument_token(sess, "titan")
        return self.token

    def events(self) -> list[tuple[str, str]]:
        """(kind, client uuid) of every Logger event the server stored, in the order it stored them."""
        with self.db.session() as sess:
            rows = sess.execute(select(SessionEvent.kind, SessionEvent.client_uuid)
                                .where(SessionEvent.kind != "STATUS").order_by(SessionEvent.id)).all()
        return [(kind, uid) for kind, uid in rows]


def write_config(home: Path, hub_url: str, token: str, **extra) -> Path:
    """A fleet-style config file with short timings, so faults resolve in seconds."""
    path = home / "fleet.json"
    data = {"hub_url": hub_url, "token": token, "journal": str(home / "journal.sqlite3"),
            "timeout_s": 2, "poll_s": 0.3, "retry_cap_s": 0.4, **extra}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def logger_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NXHUB_LOGGER")}
    env.update(NXHUB_LOGGER_HOME=str(home), NXHUB_LOGGER_KEYRING="0", QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=str(LOGGER_DIR), **extra)
    return env


def run_cli(home: Path, *args: str, config: Path | None = None, timeout: float = 60, **env: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "nxhub_logger", *(["--config", str(config)] if config else []), *args]
    return subprocess.run(cmd, env=logger_env(home, **env), capture_output=True, text=True, timeout=timeout)


class FaultProxy:
    """A stand-in for a misbehaving network or front proxy between the Logger and the real hub.

    ``mode``: "pass" forwards; "500" answers 500 without forwarding; "slow"
    waits ``delay`` seconds (longer than the Logger's timeout) and then
    forwards, so the hub stores what the Logger believes failed.
    """

    def __init__(self, upstream_port: int, delay: float = 3.0) -> None:
        import http.client
        import http.server
        import threading
        import time

        proxy = self
        self.mode, self.delay, self.requests = "pass", delay, 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                proxy.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.mode == "500":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if proxy.mode == "slow":
                    time.sleep(proxy.delay)
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                try:
                    self.send_response(resp.status)
                    for key, value in resp.getheaders():
                        if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the Logger gave up waiting
                    pass

            do_GET = do_POST = _forward

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
