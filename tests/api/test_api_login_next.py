"""The hub sign-in link (`/login?next=`) only ever sends a browser back into this service.

The API runs in hub mode with a real HubOAuth object; no hub is needed because
the login handler only records ``next`` and redirects to the hub's authorize URL.
"""

from __future__ import annotations

import dataclasses
import urllib.parse

import httpx
import pytest
from apikit import ApiServer
from jupyterhub.services.auth import HubOAuth

from nexuslims_kernel.api.auth import safe_next

HOSTILE = ["/%09/evil.example", "/%0a/evil.example", "/%0d%0a/evil.example", "%09//evil.example", "%20//evil.example",
           "//evil.example", "/\\evil.example", "https://evil.example/", "/api/v1/../../evil", "/./%09/evil.example",
           "/%00/evil.example", "javascript:alert(1)", "/%E2%80%AE//evil.example"]


@pytest.fixture(params=["/", "/services/nxhub-api/"])
def hub_mode(request, settings, db):
    base = request.param
    hub_settings = dataclasses.replace(settings, api=dataclasses.replace(settings.api, auth="jupyterhub", base_path=base))
    hub_auth = HubOAuth(base_url=base, api_token="t" * 32, oauth_client_id="service-nxhub-api", hub_host="", hub_prefix="/hub/",
                        oauth_redirect_uri=f"http://127.0.0.1{base}oauth_callback")
    server = ApiServer(hub_settings, db, hub_auth=hub_auth)
    yield server, hub_auth, base
    server.stop()


def _landing(server: ApiServer, hub_auth: HubOAuth, base: str, raw_next: str) -> str:
    url = f"http://127.0.0.1:{server.port}{base}login?next={raw_next}"
    resp = httpx.get(url, follow_redirects=False, timeout=30)
    assert resp.status_code == 302, resp.text
    location = resp.headers["location"]
    assert location.startswith("/hub/api/oauth2/authorize")
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["state"][0]
    return hub_auth.get_next_url(state)


def test_next_never_leaves_the_service(hub_mode) -> None:
    server, hub_auth, base = hub_mode
    assert _landing(server, hub_auth, base, urllib.parse.quote(f"{base}api/v1/records?q=x")) == f"{base}api/v1/records?q=x"
    for raw in HOSTILE:
        landing = _landing(server, hub_auth, base, raw)
        assert landing == f"{base}api/v1/", (raw, landing)


def test_safe_next_normalises_as_a_browser_does() -> None:
    assert safe_next("/\t/evil.example", "/") is None
    assert safe_next(" /records\n", "/") == "/records"
    assert safe_next("/services/nxhub-api/a\tb", "/services/nxhub-api/") == "/services/nxhub-api/ab"
    assert safe_next("/services/other/", "/services/nxhub-api/") is None
