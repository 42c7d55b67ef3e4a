"""``nxhub up`` as a user runs it, from a temporary data directory on free loopback ports.

:class:`UpProcess` starts the real command (JupyterHub, proxy, API service, worker,
watcher), waits for its banner, signs people in over HTTP, and on stop sends
SIGINT like Ctrl-C and names every descendant still alive afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from shotkit import path_for

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("NXHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
PORT_SETTINGS = ("PORT", "API_PORT", "PROXY_API_PORT", "SERVICE_PORT")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_proxy() -> None:
    if not (REPO / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        pytest.skip("configurable-http-proxy is not installed: run 'npm ci' in the repository (make test does)")


class UpProcess:
    """One ``nxhub up`` with its own data directory and ports."""

    def __init__(self, root: Path, extra_env: dict[str, str] | None = None) -> None:
        require_proxy()
        self.data_dir = root / "data"
        self.ports = {name: free_port() for name in PORT_SETTINGS}
        self.base = f"http://127.0.0.1:{self.ports['PORT']}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("NXHUB_", "JUPYTERHUB_"))}
        self.env.update({f"NXHUB_HUB_{k}": str(v) for k, v in self.ports.items() if k != "PORT"},
                        NXHUB_DATA_DIR=str(self.data_dir), PYTHONPATH=str(REPO), **(extra_env or {}))
        self.log_path = root / "up.log"
        self._log = self.log_path.open("w")
        self.proc = self.launch(root)
        self.seen: set[psutil.Process] = set()

    def launch(self, root: Path) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "nexuslims_kernel.cli.main", "up", "--port", str(self.ports["PORT"])],
                                env=self.env, cwd=root, stdout=self._log, stderr=subprocess.STDOUT)

    def interrupt(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def record_children(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.seen.update(psutil.Process(self.proc.pid).children(recursive=True))

    def wait_for(self, pattern: str, timeout: float = 240, after: int = 0) -> re.Match:
        """Wait until the log (from character ``after``) matches ``pattern``; fail with the log tail."""
        deadline = time.monotonic() + timeout
        while True:
            self.record_children()
            found = re.search(pattern, self.log()[after:], re.MULTILINE)
            if found:
                return found
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nxhub up: no {pattern!r} (exit {self.proc.poll()}); log tail:\n{self.log()[-4000:]}")
            time.sleep(0.3)

    def logins(self) -> dict[str, str]:
        lines = (self.data_dir / "demo-logins.txt").read_text().splitlines()
        return dict(line.split(": ", 1) for line in lines if not line.startswith("#"))

    def sign_in(self, username: str, password: str) -> httpx.Client:
        """A browser-like HTTP client signed in through the hub's login form."""
        client = httpx.Client(base_url=self.base, follow_redirects=True, timeout=60)
        form = client.get("/hub/login")
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
        client.post("/hub/login?next=/hub/home", data={"username": username, "password": password,
                                                       "_xsrf": xsrf.group(1) if xsrf else ""})
        return client

    def nxhub(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def stop(self, sig: int = signal.SIGINT) -> tuple[int | None, list[str]]:
        """Ctrl-C (or ``sig``); the exit code and whatever descendant outlived it (killed then)."""
        self.record_children()
        if self.proc.poll() is None:
            self.interrupt(sig)
        try:
            code = self.proc.wait(90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = None
        _, alive = psutil.wait_procs(list(self.seen), timeout=5)
        leftovers = []
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                leftovers.append(f"{proc.pid} {' '.join(proc.cmdline()[:3])}")
                proc.kill()
        self._log.close()
        return code, leftovers


class MakeRun(UpProcess):
    """``make run`` in a fresh clone of this repository, as the README tells a new user: the clone makes its own
    ``.venv`` and ``node_modules`` (package caches are used when warm), then starts the hub on free ports.

    It runs in its own process group and :meth:`stop` signals the whole group, as Ctrl-C in a terminal does.
    """

    def __init__(self, root: Path) -> None:
        self.clone = root / "clone"
        subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(self.clone)], check=True, timeout=300)
        super().__init__(root)

    def launch(self, root: Path) -> subprocess.Popen:
        # nothing of this checkout's venv: the clone's own code from the clone's own .venv
        for name in ("PYTHONPATH", "VIRTUAL_ENV", "NXHUB_DATA_DIR"):
            self.env.pop(name, None)
        self.env["PATH"] = os.pathsep.join(p for p in self.env.get("PATH", "").split(os.pathsep) if not p.startswith(sys.prefix))
        # the data dir and ports as a user would override them: `make run DATA=...` and NXHUB_HUB_* in the environment
        self.env["NXHUB_HUB_PORT"] = str(self.ports["PORT"])
        return subprocess.Popen(["make", "run", f"DATA={self.data_dir}"], env=self.env, cwd=self.clone, stdout=self._log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def interrupt(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)


def launch_chromium(playwright):
    """Debian's Chromium, headless (never a downloaded browser); skip when it is not installed."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium (or set NXHUB_CHROMIUM)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def screenshot(page, name: str) -> Path:
    """The window as the person sees it, in a temporary folder (the README's folder under ``make screenshots``)."""
    path = path_for(name)
    page.screenshot(path=str(path), full_page=False)
    return path
