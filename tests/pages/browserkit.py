"""Debian's Chromium driven by Playwright (never a downloaded browser), and a Voilà pages server per test module."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from shotkit import path_for, scratch

CHROMIUM = os.environ.get("NXHUB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", "--disable-dev-shm-usage"]
REPO = Path(__file__).resolve().parents[2]
#: what the site fixture adds to the demo: a title holding markup, and a record of this many datasets
XSS_TITLE = '<img src=x onerror="window.__pwned=1">Hacked session & "quotes"'
BIG = 1000


def chromium_path() -> str | None:
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PagesServer:
    """``nxhub pages serve`` in a subprocess, pointed at an API with one person's token."""

    def __init__(self, api_root: str, token: str | None, env: dict[str, str] | None = None, preheat: int = 0) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
        full_env.pop("NXHUB_PAGES_API_BASE", None)
        args = [sys.executable, "-m", "nexuslims_kernel.cli.main", "pages", "serve", "--port", str(self.port), "--api", api_root,
                "--preheat", str(preheat)]
        if token:
            args += ["--token", token]
        self.log_path = scratch() / f"pages-server-{self.port}.log"
        with open(self.log_path, "w") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(args, env=full_env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/voila/static/voila.js", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"nxhub pages serve exited with {self.proc.returncode}")
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("nxhub pages serve did not start in 60 s")

    def url(self, page: str, query: str = "") -> str:
        return f"{self.base}/voila/render/{page}.ipynb" + (f"?{query}" if query else "")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def launch(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), args=ARGS, headless=True)


def shot(page, name: str) -> Path:
    """A full-page screenshot in a temporary folder (the README's folder under ``make screenshots``)."""
    path = path_for(name)
    size = page.viewport_size
    # Voilà scrolls an inner container, not the document: grow the window to the page's height for the picture.
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('.nx-page')].map(e => e.scrollHeight + 40), 600)")
    page.set_viewport_size({"width": size["width"], "height": min(int(height), 4000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path
