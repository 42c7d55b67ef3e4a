"""The hub's own admin service: lets ``nxhub`` commands on the hub's machine stop a person's server.

Its token is a 0600 file in the hub state dir, readable only by the hub's account, and its role
may only manage users and servers; it is what ``nxhub users remove`` uses.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import httpx

SERVICE = "nxhub-admin"
TOKEN_FILE = "admin-token"
SCOPES = ["admin:users", "admin:servers"]


def admin_token(state_dir: Path) -> str:
    """The service's token, made once (0600)."""
    path = state_dir / TOKEN_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def service_and_role(state_dir: Path) -> tuple[dict, dict]:
    return ({"name": SERVICE, "api_token": admin_token(state_dir)},
            {"name": SERVICE, "services": [SERVICE], "scopes": SCOPES})


def forget_hub_user(api_port: int, state_dir: Path, username: str, timeout: float = 60) -> str:
    """Stop the person's server and remove them from the hub; one line saying what happened."""
    path = state_dir / TOKEN_FILE
    if not path.exists():
        return "the hub has not run here yet: no server to stop"
    hub = httpx.Client(base_url=f"http://127.0.0.1:{api_port}/hub/api",
                       headers={"Authorization": f"token {path.read_text().strip()}"}, timeout=30)
    try:
        user = hub.get(f"/users/{username}")
        if user.status_code == 404:
            return "not a hub user: no server to stop"
        user.raise_for_status()
        running = bool(user.json().get("servers"))
        if running:
            hub.delete(f"/users/{username}/server")
            deadline = time.monotonic() + timeout
            while hub.get(f"/users/{username}").json().get("servers") and time.monotonic() < deadline:
                time.sleep(0.3)
        hub.delete(f"/users/{username}").raise_for_status()
        return "stopped their server" if running else "they had no server running"
    except httpx.ConnectError:
        return "the hub is not running: their server (if any) stopped with it"
    finally:
        hub.close()
