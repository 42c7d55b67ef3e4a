"""Hub mode against a real JupyterHub on loopback, with the API registered as its service."""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from apikit import KINDS, ApiServer

from nexuslims_kernel.api.auth import make_hub_auth

REPO = Path(__file__).resolve().parents[2]
SERVICE = "nxhub-api"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chp() -> str | None:
    local = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(local) if local.exists() else shutil.which("configurable-http-proxy")


@pytest.fixture
def hub(tmp_path: Path):
    """A JupyterHub (dummy authenticator) with our API as a service and a bot service that manages users."""
    chp = _chp()
    if chp is None:
        pytest.skip("configurable-http-proxy is not installed (npm install configurable-http-proxy)")
    ports = {name: _free_port() for name in ("public", "hub", "proxy_api", "api")}
    service_token, bot_token = secrets.token_hex(32), secrets.token_hex(32)
    config = tmp_path / "jupyterhub_config.py"
    config.write_text(f"""
c.JupyterHub.ip = '127.0.0.1'
c.JupyterHub.port = {ports['public']}
c.JupyterHub.hub_ip = '127.0.0.1'
c.JupyterHub.hub_port = {ports['hub']}
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{ports['proxy_api']}'
c.JupyterHub.authenticator_class = 'dummy'
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {{'hubboss'}}
c.JupyterHub.db_url = 'sqlite:///{tmp_path / "hub.sqlite"}'
c.JupyterHub.cookie_secret_file = '{tmp_path / "cookie_secret"}'
c.JupyterHub.pid_file = '{tmp_path / "hub.pid"}'
c.JupyterHub.services = [
    {{'name': '{SERVICE}', 'url': 'http://127.0.0.1:{ports['api']}', 'api_token': '{service_token}', 'oauth_no_confirm': True}},
    {{'name': 'bot', 'api_token': '{bot_token}'}},
]
c.JupyterHub.load_roles = [
    {{'name': 'bot', 'scopes': ['admin:users', 'tokens'], 'services': ['bot']}},
    # Every hub user may call the API (which then applies its own record ACL).
    {{'name': 'user', 'scopes': ['self', 'access:services!service={SERVICE}']}},
]
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "NXHUB_"))}
    env["PATH"] = f"{Path(chp).parent}:{env.get('PATH', '')}"
    log = (tmp_path / "hub.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=tmp_path, env=env, stdout=log, stderr=log)
    api_url = f"http://127.0.0.1:{ports['hub']}/hub/api"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(api_url + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterHub did not start: {(tmp_path / 'hub.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield {"ports": ports, "api_url": api_url, "service_token": service_token, "bot": bot_token,
               "public": f"http://127.0.0.1:{ports['public']}"}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _user_token(hub: dict, name: str) -> str:
    headers = {"Authorization": f"token {hub['bot']}"}
    resp = httpx.post(f"{hub['api_url']}/users/{name}", headers=headers, timeout=30)
    assert resp.status_code in (201, 409), resp.text
    resp = httpx.post(f"{hub['api_url']}/users/{name}/tokens", headers=headers, json={"note": "test"}, timeout=30)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["token"]


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_hub_tokens_authenticate_and_see_only_their_records(hub, settings, db, world) -> None:
    prefix = f"/services/{SERVICE}/"
    hub_settings = dataclasses.replace(settings, api=dataclasses.replace(settings.api, auth="jupyterhub", base_path=prefix))
    hub_auth = make_hub_auth(prefix, api_token=hub["service_token"], api_url=hub["api_url"],
                             access_scopes={f"access:services!service={SERVICE}"})
    # The hub was told our port before we started; bind exactly there.
    server = ApiServer(hub_settings, db, hub_auth=hub_auth, port=hub["ports"]["api"])
    try:
        expect = {"alice": set(KINDS), "bob": {"group", "public"}, "carol": {"public"}, "hubboss": set(KINDS)}
        for name, kinds in expect.items():
            token = _user_token(hub, name)
            for base in (server.base,):  # through the hub's proxy: see the report (CHP route not registered here)
                with httpx.Client(base_url=base, headers={"Authorization": f"token {token}"}, timeout=30) as client:
                    me = client.get("/me").json()
                    assert me["username"] == name and me["is_admin"] == (name == "hubboss"), me
                    ids = {item["id"] for item in client.get("/records").json()["items"]}
                    assert ids == {world.records[k] for k in kinds}, (name, base)
                    hidden = set(KINDS) - kinds
                    for kind in hidden:
                        assert client.get(f"/records/{world.records[kind]}").status_code == 404
        with httpx.Client(base_url=server.base, timeout=30) as anon:
            assert {i["id"] for i in anon.get("/records").json()["items"]} == {world.records["public"]}
            assert anon.get("/records", headers={"Authorization": "token not-a-hub-token"}).status_code == 401
            # The Logger keeps using its instrument token in hub mode.
            heartbeat = anon.get("/logger/heartbeat", headers={"Authorization": f"Bearer {world.tokens['instrument']}"})
            assert heartbeat.status_code == 200
    finally:
        server.stop()
