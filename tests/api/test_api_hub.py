"""Hub mode end to end: a real JupyterHub on loopback, started from ``hub_config/jupyterhub_config.py``.

The hub runs configurable-http-proxy (pinned in package.json) and starts our API
as its managed service ``nxhub-api`` (``nxhub api serve``); every request below
goes through the proxy's public port, as a notebook or browser would send it.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from apikit import KINDS, World

from nexuslims_kernel.config import Settings
from nexuslims_kernel.db import Database

REPO = Path(__file__).resolve().parents[2]
HUB_CONFIG = REPO / "hub_config" / "jupyterhub_config.py"
SERVICE = "nxhub-api"
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chp() -> str | None:
    local = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(local) if local.exists() else shutil.which("configurable-http-proxy")


class HubProcess:
    """The hub's process and every process it starts (proxy, API service), so none outlives the test.

    The proxy runs in its own session and is orphaned if the hub dies, so children are
    recorded while the hub runs, and ``proxy.pid`` in the hub's state dir is read at the end.
    """

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str], log: Path, proxy_pid_file: Path) -> None:
        self.log, self.proxy_pid_file = log, proxy_pid_file
        with log.open("w") as out:
            self.proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=out)
        self.seen: set[psutil.Process] = set()

    def _record_children(self) -> None:
        try:
            self.seen.update(psutil.Process(self.proc.pid).children(recursive=True))
        except psutil.NoSuchProcess:
            pass

    def wait_until(self, check: Callable[[], bool], what: str, timeout: float = 90) -> None:
        """Poll ``check()`` until true; fail with the hub's log tail if the hub dies or time runs out."""
        deadline = time.monotonic() + timeout
        while True:
            self._record_children()
            try:
                if check():
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what} did not come up; hub log tail:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.3)

    def stop(self) -> list[str]:
        """SIGTERM the hub (it stops proxy and service), then kill and name whatever is left."""
        self._record_children()
        with contextlib.suppress(ValueError, OSError, psutil.Error):
            self.seen.add(psutil.Process(int(self.proxy_pid_file.read_text())))
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        _, alive = psutil.wait_procs(list(self.seen), timeout=10)
        leftovers = []
        for child in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                leftovers.append(" ".join(child.cmdline()[:3]))
                child.kill()
        psutil.wait_procs(alive, timeout=10)
        return leftovers


@pytest.fixture
def hub(tmp_path: Path, env_for_cli: dict[str, str], settings: Settings, db: Database) -> Iterator[dict]:
    """The real hub config, plus a test-only 'bot' service that creates users and their tokens.

    Asks for ``settings`` and ``db`` so the API service starts on the test's data dir and migrated
    database (SQLite or PostgreSQL); the hub keeps its own SQLite DB under ``<data_dir>/hub``.
    """
    chp = _chp()
    if chp is None:
        pytest.skip("configurable-http-proxy is not installed (npm ci)")
    ports = {name: _free_port() for name in ("PORT", "API_PORT", "PROXY_API_PORT", "SERVICE_PORT")}
    bot_token = secrets.token_hex(32)
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(
        f"load_subconfig({str(HUB_CONFIG)!r})\n"
        "c.Authenticator.admin_users = {'hubboss'}\n"
        f"c.JupyterHub.services.append({{'name': 'bot', 'api_token': {bot_token!r}}})\n"
        "c.JupyterHub.load_roles.append({'name': 'bot', 'scopes': ['admin:users', 'tokens'], 'services': ['bot']})\n"
    )
    config.chmod(0o600)
    env = {k: v for k, v in env_for_cli.items() if not k.startswith("JUPYTERHUB_")}
    env.update({f"NXHUB_HUB_{k}": str(v) for k, v in ports.items()}, NXHUB_HUB_DEMO="1")
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    hub = HubProcess([sys.executable, "-m", "jupyterhub", "-f", str(config)], tmp_path, env,
                     tmp_path / "hub.log", settings.data_dir / "hub" / "proxy.pid")
    public = f"http://127.0.0.1:{ports['PORT']}"
    info = {"public": public, "api": f"{public}/services/{SERVICE}/api/v1", "hub_api": f"{public}/hub/api", "bot": bot_token}
    ok = False
    try:
        # Both through the proxy: the hub's routes, then the service's, exist only once the hub is up.
        hub.wait_until(lambda: httpx.get(info["hub_api"] + "/", timeout=2).status_code == 200, "JupyterHub")
        hub.wait_until(lambda: httpx.get(info["api"] + "/openapi.json", timeout=2).status_code == 200, "the nxhub-api service")
        yield info
        ok = True
    finally:
        clean = hub.proc.poll() is None
        leftovers = hub.stop()
        if ok and clean:
            assert not leftovers, f"the hub left processes running: {leftovers}"


def _user_token(hub: dict, name: str) -> str:
    """Create hub user ``name`` and a hub API token for them, as the hub's admin API does."""
    headers = {"Authorization": f"token {hub['bot']}"}
    resp = httpx.post(f"{hub['hub_api']}/users/{name}", headers=headers, timeout=30)
    assert resp.status_code in (201, 409), resp.text
    resp = httpx.post(f"{hub['hub_api']}/users/{name}/tokens", headers=headers, json={"note": "test"}, timeout=30)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["token"]


def _ids(resp: httpx.Response) -> set[int]:
    assert resp.status_code == 200, resp.text
    return {item["id"] for item in resp.json()["items"]}


@pytest.mark.slow
def test_hub_users_reach_the_api_through_the_proxy_and_see_only_their_records(hub: dict, world: World) -> None:
    """One hub per backend (starting one takes seconds on a busy machine), so one test covers all callers."""
    expect = {"alice": set(KINDS), "bob": {"group", "public"}, "carol": {"public"}, "hubboss": set(KINDS)}
    for name, kinds in expect.items():
        token = _user_token(hub, name)
        # A notebook (JupyterHub's "token" spelling) and a browser-like client with a bearer token.
        for headers in ({"Authorization": f"token {token}"}, {**BROWSER, "Authorization": f"Bearer {token}"}):
            with httpx.Client(base_url=hub["api"], headers=headers, timeout=30) as client:
                me = client.get("/me").json()
                assert me["username"] == name and me["is_admin"] == (name == "hubboss"), me
                assert _ids(client.get("/records")) == {world.records[k] for k in kinds}, name
                for kind in set(KINDS) - kinds:
                    assert client.get(f"/records/{world.records[kind]}").status_code == 404

    with httpx.Client(base_url=hub["api"], timeout=30) as anon:
        # No credentials: public records only. The API is JSON and does not start the OAuth
        # login itself, so a browser without a token is anonymous here, not redirected.
        resp = anon.get("/records", headers=BROWSER)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/json")
        assert _ids(resp) == {world.records["public"]}
        assert anon.get("/me").json()["kind"] == "anonymous"
        assert anon.get("/records", headers={"Authorization": "token not-a-hub-token"}).status_code == 401
        # The Logger keeps using its instrument token in hub mode.
        heartbeat = anon.get("/logger/heartbeat", headers={"Authorization": f"Bearer {world.tokens['instrument']}"})
        assert heartbeat.status_code == 200, heartbeat.text
    _browser_signs_in_through_hub_oauth(hub, world)


def _browser_signs_in_through_hub_oauth(hub: dict, world: World) -> None:
    """A browser with no token: the service's login link -> hub login form -> OAuth -> back with a cookie."""
    service = hub["api"].removesuffix("/api/v1")
    with httpx.Client(headers=BROWSER, timeout=30, follow_redirects=True) as browser:
        index = browser.get(f"{hub['api']}/").json()
        assert index["you"]["kind"] == "anonymous" and index["login"].endswith("/services/nxhub-api/login")
        form = browser.get(f"{hub['public']}{index['login']}", params={"next": "/services/nxhub-api/api/v1/records"})
        assert form.status_code == 200 and "/hub/login" in str(form.url) and "<form" in form.text
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text)
        fields = {"username": "alice", "password": "demo", **({"_xsrf": xsrf.group(1)} if xsrf else {})}
        landed = browser.post(str(form.url), data=fields)
        # Back on the page asked for, now as alice (the service's own cookie, set by its OAuth callback).
        assert landed.status_code == 200, landed.text[:500]
        assert str(landed.url) == f"{hub['api']}/records"
        assert _ids(landed) == {world.records[k] for k in KINDS}
        assert browser.get(f"{hub['api']}/me").json()["username"] == "alice"
        # Several API processes serve the same port: every one of them accepts the cookie.
        assert all(browser.get(f"{hub['api']}/me").json()["username"] == "alice" for _ in range(8))
        # Signed in at the hub already: the login link goes straight through, and never off-site.
        for wanted in ("https://evil.example/", "//evil.example/x", "/hub/admin"):
            back = browser.get(f"{service}/login", params={"next": wanted})
            assert back.status_code == 200 and str(back.url) == f"{hub['api']}/", (wanted, back.url)
