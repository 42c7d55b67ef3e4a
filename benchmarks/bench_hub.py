"""Local hub benchmark: ``nxhub up`` from nothing, the hub's warm start, a first spawn, first Browse pages.

Measured in one run, on loopback, from a temporary data directory on free ports:

- cold start: ``nxhub up`` on an empty data dir (database, demo facility) to a working sign-in page;
- hub start to ready: a second ``nxhub up`` on the same data dir until the hub and the API answer
  through the proxy (goal < 8 s);
- first spawn to usable JupyterLab: a signed-in user's server from the spawn request until
  JupyterLab's page and its kernel specs answer (goal < 8 s);
- first Browse page for a signed-in user in Chromium, spawn included (reported), and the same page
  again with the server running (goal < 2 s);
- a first spawn under each isolation mode the machine allows (``accounts`` as root, ``sandbox``,
  and ``none`` as the baseline), each goal < 8 s, with the ratio to ``none`` in the same run.

With ``--make-run`` (what ``make bench`` passes), first: ``make run`` in a fresh clone of this repository
(its own ``.venv`` and ``node_modules``, package caches as they are) to a working sign-in page.

Usage: ``.venv/bin/python benchmarks/bench_hub.py [--make-run]`` (needs configurable-http-proxy from ``npm ci``
and Debian's chromium for the Browse figures). Prints PASS/FAIL per goal; exit 1 if one fails.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("NXHUB_CHROMIUM", "/usr/bin/chromium")
GOALS = {"hub_start_to_ready_s": 8.0, "spawn_to_jupyterlab_s": 8.0, "browse_server_running_s": 2.0,
         "spawn_to_jupyterlab_accounts_s": 8.0, "spawn_to_jupyterlab_sandbox_s": 8.0}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """``nxhub up`` on fixed free ports for a data dir; started and stopped around each measurement."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, _port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("NXHUB_", "JUPYTERHUB_"))}
        self.env.update(NXHUB_DATA_DIR=str(root / "data"), PYTHONPATH=str(REPO), NXHUB_HUB_API_PORT=str(_port()),
                        NXHUB_HUB_PROXY_API_PORT=str(_port()), NXHUB_HUB_SERVICE_PORT=str(_port()))
        self.proc: subprocess.Popen | None = None

    def start(self) -> float:
        self.log = open(self.root / "up.log", "a")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen([sys.executable, "-m", "nexuslims_kernel.cli.main", "up", "--port", str(self.port)],
                                     env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        return time.perf_counter()

    def wait(self, ok, what: str, timeout: float = 300) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ok():
                    return time.perf_counter()
            except httpx.HTTPError:
                pass
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise SystemExit(f"{what} did not happen; see {self.root / 'up.log'}")

    def ready(self) -> bool:
        return (httpx.get(f"{self.base}/hub/api/", timeout=2).status_code == 200
                and httpx.get(f"{self.base}/services/nxhub-api/api/v1/openapi.json", timeout=2).status_code == 200)

    def password(self, user: str) -> str:
        text = (self.root / "data" / "demo-logins.txt").read_text()
        return re.search(rf"^{user}: (\S+)$", text, re.MULTILINE).group(1)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(120)
        self.log.close()


def spawn_to_lab(hub: Hub, user: str) -> float:
    client = httpx.Client(base_url=hub.base, follow_redirects=True, timeout=60)
    form = client.get("/hub/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    client.post("/hub/login", data={"username": user, "password": hub.password(user), "_xsrf": xsrf})
    started = time.perf_counter()
    client.get(f"/hub/spawn/{user}", follow_redirects=False)

    def usable() -> bool:
        lab = client.get(f"/user/{user}/lab")
        return (lab.status_code == 200 and "JupyterLab" in lab.text
                and client.get(f"/user/{user}/api/kernelspecs").status_code == 200)

    done = hub.wait(usable, f"{user}'s JupyterLab", timeout=180)
    client.close()
    return done - started


def spawn_per_isolation(hub: Hub, auto_s: float) -> dict[str, float]:
    """A first spawn under each other isolation mode (a new person each, so each is a first spawn);
    ``none`` (no isolation at all) is the baseline the others are compared with in the same run."""
    from nexuslims_kernel.config import load_settings
    from nexuslims_kernel.hub.isolation import IsolationError, resolve

    auto = resolve(load_settings({"NXHUB_DATA_DIR": hub.env["NXHUB_DATA_DIR"]})).mode
    out = {f"spawn_to_jupyterlab_{auto}_s": auto_s}
    for mode, user in (("none", "carol"), ("sandbox", "dana")):
        if mode == auto:
            continue
        try:
            resolve(load_settings({"NXHUB_DATA_DIR": hub.env["NXHUB_DATA_DIR"], "NXHUB_HUB_ISOLATION": mode}))
        except IsolationError as exc:
            print(f"spawn under {mode}: skipped ({exc})")
            continue
        hub.env["NXHUB_HUB_ISOLATION"] = mode
        hub.start()
        try:
            hub.wait(hub.ready, "the hub and API")
            out[f"spawn_to_jupyterlab_{mode}_s"] = spawn_to_lab(hub, user)
        finally:
            hub.stop()
            hub.env.pop("NXHUB_HUB_ISOLATION")
    base = out.get("spawn_to_jupyterlab_none_s")
    if base:
        for name in [n for n in out if n != "spawn_to_jupyterlab_none_s"]:
            print(f"{name.removesuffix('_s')} / none = {out[name] / base:.2f}x")
    return out


def browse_times(hub: Hub, user: str) -> tuple[float, float] | None:
    if not os.access(CHROMIUM, os.X_OK):
        print(f"browse: skipped ({CHROMIUM} not installed)")
        return None
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]
    cards = "a[href*='record.ipynb?id=']"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        page = browser.new_page()
        page.goto(f"{hub.base}/hub/login")
        page.fill("#username_input", user)
        page.fill("#password_input", hub.password(user))
        page.click("#login_submit")
        page.wait_for_url("**/hub/home")
        started = time.perf_counter()
        page.click("#nxhub-browse")
        page.wait_for_selector(cards, timeout=300_000)
        first = time.perf_counter() - started
        started = time.perf_counter()
        page.reload()
        page.wait_for_selector(cards, timeout=120_000)
        again = time.perf_counter() - started
        browser.close()
    return first, again


def cold_make_run() -> float:
    """Seconds from ``make run`` in a fresh clone (no .venv, no node_modules) to a working sign-in page."""
    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    from hubkit import MakeRun

    with tempfile.TemporaryDirectory(prefix="nxhub-bench-make-run-") as tmp:
        run = MakeRun(Path(tmp))  # clones, then starts `make run`
        started = time.perf_counter()
        try:
            while True:
                try:
                    if httpx.get(f"{run.base}/hub/login", timeout=2).status_code == 200:
                        return time.perf_counter() - started
                except httpx.HTTPError:
                    pass
                if run.proc.poll() is not None or time.perf_counter() - started > 1800:
                    raise SystemExit(f"make run did not come up:\n{run.log()[-3000:]}")
                time.sleep(0.2)
        finally:
            _code, leftovers = run.stop()
            if leftovers:
                print(f"make run left processes running: {leftovers}")


def main() -> int:
    if not (REPO / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        print("configurable-http-proxy missing: run 'npm ci' first")
        return 1
    results: dict[str, float] = {}
    if "--make-run" in sys.argv[1:]:
        results["cold_make_run_to_sign_in_page_s"] = cold_make_run()
    with tempfile.TemporaryDirectory(prefix="nxhub-bench-hub-") as tmp:
        hub = Hub(Path(tmp))
        started = hub.start()
        results["cold_up_to_sign_in_page_s"] = hub.wait(
            lambda: httpx.get(f"{hub.base}/hub/login", timeout=2).status_code == 200, "the sign-in page") - started
        hub.stop()
        started = hub.start()
        results["hub_start_to_ready_s"] = hub.wait(hub.ready, "the hub and API") - started
        try:
            results["spawn_to_jupyterlab_s"] = spawn_to_lab(hub, "alice")
            browse = browse_times(hub, "bob")
            if browse:
                results["first_browse_with_spawn_s"], results["browse_server_running_s"] = browse
        finally:
            hub.stop()
        results.update(spawn_per_isolation(hub, results["spawn_to_jupyterlab_s"]))
    for name, value in results.items():
        print(f"{name:<30} {value:7.2f}")
    failed = 0
    for name, goal in GOALS.items():
        if name in results:
            ok = results[name] < goal
            failed += not ok
            print(f"{'PASS' if ok else 'FAIL'} {name} = {results[name]:.2f} s (goal < {goal:g} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
