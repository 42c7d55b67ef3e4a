"""Inputs that used to crash a handler (500) or get tornado's bare 400: each is a JSON 400/413 naming what is wrong."""

from __future__ import annotations

import base64
import json
import socket

import pytest

OVERFLOWING = {"from": "0001-01-01T00:00:00+01:00", "to": "9999-12-31T23:59:59-01:00"}


def _cursor(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _error(resp, status: int) -> str:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    return resp.json()["error"]["message"]


@pytest.mark.parametrize("name", sorted(OVERFLOWING))
def test_dates_overflowing_utc_are_400_naming_the_parameter(api_server, world, name) -> None:
    with api_server.client(world.tokens["owner"]) as client:
        for url in ("/records", "/records/facets"):
            assert name in _error(client.get(url, params={name: OVERFLOWING[name]}), 400)
    with api_server.client(world.tokens["admin"]) as admin:
        for when in OVERFLOWING.values():
            resp = admin.patch(f"/admin/records/{world.records['private']}/access", json={"embargo_until": when})
            assert "embargo_until" in _error(resp, 400)
    with api_server.client(world.tokens["instrument"]) as logger:
        event = {"uuid": "6a1c4b8e-8a51-4ac4-9b8e-3f0d3d7f2a10", "at": OVERFLOWING[name], "user": "alice"}
        assert "at" in _error(logger.post("/logger/start", json=event), 400)
        batch = logger.post("/logger/events", json={"events": [{**event, "kind": "START"}]})
        if batch.status_code == 200:  # answered per event
            refused = batch.json()["results"][0]["error"]
            assert refused["status"] == 400 and "at" in refused["message"]
        else:
            assert "at" in _error(batch, 400)


TAMPERED = [
    {"s": "-start", "v": "2026-01-05T09:00:00", "id": 3},  # naive time
    {"s": "-start", "v": "2026-01-05T09:00:00+00:00", "id": 1e308},
    {"s": "-start", "v": "2026-01-05T09:00:00+00:00", "id": "Infinity"},
    {"s": "-start", "v": {"a": 1}, "id": 3},
    {"s": "-start", "v": [1, 2], "id": 3},
    {"s": "-start", "v": "0001-01-01T00:00:00+01:00", "id": 3},
    {"s": "-start", "v": None, "id": True},
    {"s": "sideways", "v": None, "id": 3},
    {"s": "relevance", "o": -5},
    {"s": "relevance", "o": 1.5},
    [1, 2, 3],
]


def test_tampered_cursors_are_400(api_server, world) -> None:
    raw_infinity = base64.urlsafe_b64encode(b'{"s":"-start","v":null,"id":Infinity}').decode()
    with api_server.client(world.tokens["owner"]) as client:
        first = client.get("/records", params={"limit": 1})
        assert first.status_code == 200 and first.json()["next_cursor"]
        follow = client.get("/records", params={"limit": 1, "cursor": first.json()["next_cursor"]})
        assert follow.status_code == 200 and follow.json()["items"][0]["id"] != first.json()["items"][0]["id"]
        for data in TAMPERED:
            sort = data.get("s") if isinstance(data, dict) and data.get("s") in ("relevance",) else "-start"
            params = {"cursor": _cursor(data), "sort": sort, **({"q": "zebra"} if sort == "relevance" else {})}
            assert "cursor" in _error(client.get("/records", params=params), 400), data
        assert "cursor" in _error(client.get("/records", params={"cursor": raw_infinity}), 400)


def test_deeply_nested_json_is_400(api_server, world) -> None:
    with api_server.client(world.tokens["admin"]) as admin:
        assert "nested" in _error(admin.post("/admin/groups", content=b"[" * 200_000), 400)
        assert "nested" in _error(admin.post("/admin/groups", content=b'{"name": ' + b"[" * 100 + b"]" * 100 + b"}"), 400)
    with api_server.client(world.tokens["instrument"]) as logger:
        assert "nested" in _error(logger.post("/logger/events", content=b'{"events":' + b"[" * 200_000), 400)


def _raw(port: int, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send one hand-made request; (status, headers, body) of the answer (read until the server closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    top, _, rest = data.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, rest


@pytest.mark.parametrize(("framing", "status", "words"), [
    ("Content-Length: 12\r\nContent-Length: 12\r\n", 400, "more than once"),
    ("Content-Length: 12\r\nContent-Length: 30\r\n", 400, "more than once"),
    ("Content-Length: 12, 12\r\n", 400, "more than once"),
    ("Content-Length: twelve\r\n", 400, "whole number"),
    ("Content-Length: -1\r\n", 400, "whole number"),
    ("Content-Length: 12\r\nTransfer-Encoding: chunked\r\n", 400, "not both"),
    ("Transfer-Encoding: gzip\r\n", 400, "chunked"),
    ("Content-Length: 999999999999\r\n", 413, "larger than"),
])
def test_bad_framing_gets_a_json_answer(api_server, world, framing, status, words) -> None:
    head = (f"POST /api/v1/admin/groups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {world.tokens['admin']}\r\n"
            f"Content-Type: application/json\r\n{framing}\r\n").encode()
    got, headers, body = _raw(api_server.port, head, b'{"name":"g"}')
    assert got == status, body
    assert headers["content-type"].startswith("application/json") and headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert error["status"] == status and words in error["message"]
    with api_server.client(world.tokens["admin"]) as admin:  # nothing was created, the server is fine
        assert "g" not in {g["name"] for g in admin.get("/admin/groups").json()["items"]}


def test_bodies_far_over_the_limit_get_a_json_413(api_server, world, settings) -> None:
    too_much = settings.api.max_body_bytes * 9  # past the amount the server drains before it stops reading
    head = (f"POST /api/v1/admin/groups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {world.tokens['admin']}\r\n"
            f"Content-Length: {too_much}\r\n\r\n").encode()
    got, _headers, body = _raw(api_server.port, head, b"{")
    assert got == 413 and json.loads(body)["error"]["status"] == 413
    with socket.create_connection(("127.0.0.1", api_server.port), timeout=30) as sock:
        sock.sendall(b"POST /api/v1/admin/groups HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        try:
            for _ in range(too_much // len(chunk) + 1):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass  # the server stopped reading once it had answered
        data = b""
        try:
            while part := sock.recv(65536):
                data += part
        except OSError:
            pass
    status_line, _, rest = data.partition(b"\r\n")
    assert b" 413 " in status_line and b"application/json" in rest, data[:300]
