"""/api/v1 without the trailing slash leads to the API index (people type it that way)."""

from __future__ import annotations


def test_api_index_without_trailing_slash(api_server) -> None:
    with api_server.client() as client:
        bare = client.get(api_server.base)
        assert bare.status_code == 301 and bare.headers["location"].endswith("/api/v1/")
        resp = client.get(api_server.base, follow_redirects=True)
        assert resp.status_code == 200 and resp.json()["service"] == "NexusLIMS Hub API"
        assert client.post(api_server.base).status_code == 404  # only a GET is sent on
