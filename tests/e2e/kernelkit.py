"""Run code in a person's real kernel: spawn their server through the hub's REST API, start a kernel,
execute over the Jupyter websocket, and give back what it printed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


def xsrf_headers(client: httpx.Client) -> dict[str, str]:
    return {"X-XSRFToken": client.cookies.get("_xsrf", path="/hub/") or ""}


def spawn(client: httpx.Client, name: str, timeout: float = 180) -> httpx.Response:
    """Ask the hub to start ``name``'s server and wait until it is ready; the spawn answer (or the failure)."""
    started = client.post(f"/hub/api/users/{name}/server", headers=xsrf_headers(client))
    if started.status_code >= 400:
        return started
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        user = client.get(f"/hub/api/users/{name}", headers=xsrf_headers(client)).json()
        server = user.get("servers", {}).get("", {})
        if server.get("ready"):
            return started
        if not user.get("pending") and not server:
            return client.get(f"/hub/api/users/{name}", headers=xsrf_headers(client))
        time.sleep(0.5)
    raise TimeoutError(f"{name}'s server was not ready in {timeout} s")


def token(client: httpx.Client, name: str) -> str:
    made = client.post(f"/hub/api/users/{name}/tokens", headers=xsrf_headers(client), json={"note": "isolation test"})
    made.raise_for_status()
    return made.json()["token"]


def run_in_kernel(base: str, name: str, api_token: str, code: str, timeout: float = 180) -> str:
    """Start a kernel in ``name``'s server, run ``code``, return its stdout (raises on an error in the kernel)."""
    auth = {"Authorization": f"token {api_token}"}
    with httpx.Client(base_url=f"{base}/user/{name}", headers=auth, timeout=60) as server:
        kernel = server.post("/api/kernels", json={"name": "python3"})
        kernel.raise_for_status()
        kid = kernel.json()["id"]
        try:
            return asyncio.run(_execute(base.replace("http", "ws", 1) + f"/user/{name}/api/kernels/{kid}/channels",
                                        auth, code, timeout))
        finally:
            server.delete(f"/api/kernels/{kid}")


async def _execute(url: str, headers: dict[str, str], code: str, timeout: float) -> str:
    conn = await websocket_connect(HTTPRequest(url, headers=headers, connect_timeout=60))
    msg_id = uuid.uuid4().hex
    conn.write_message(json.dumps({
        "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex, "msg_type": "execute_request",
                   "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    out: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            raw = await asyncio.wait_for(conn.read_message(), timeout=max(1.0, deadline - time.monotonic()))
            if raw is None:
                raise RuntimeError("the kernel's websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise RuntimeError("kernel error: " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                return "".join(out)
        raise TimeoutError("the kernel did not finish in time")
    finally:
        conn.close()
