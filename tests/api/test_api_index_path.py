"""The API index answers at /api/v1 as well as /api/v1/ (people type it without the slash)."""

from __future__ import annotations


def test_api_index_without_trailing_slash(api_server) -> None:
    with api_server.client() as client:
        for path in ("", "/"):
            resp = client.get(api_server.base + path)
            assert resp.status_code == 200 and resp.json()["service"] == "NexusLIMS Hub API", path
            assert resp.json()["openapi"].endswith("/api/v1/openapi.json")
