"""The catalog's only way to data: HTTP to the API, with the caller's own token.

Where the API is and who is asking is found the same way everywhere:
explicit arguments, then ``NXHUB_API_URL`` / ``NXHUB_API_TOKEN``, then (inside a
JupyterHub single-user server) the hub service ``nxhub-api`` and
``JUPYTERHUB_API_TOKEN``. Nothing here touches the database.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

SERVICE = "nxhub-api"
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
#: a busy API (503, e.g. SQLite "database is locked") is asked again after these pauses, s
RETRY_PAUSES = (0.2, 0.5, 1.0, 2.0)


class CatalogError(RuntimeError):
    """The API refused or failed a request; the message is the API's one-line error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}" if status else message)
        self.status = status


def _hub_service_url(environ: Mapping[str, str]) -> str | None:
    """Ask the hub where the nxhub-api service lives (needs only the server's own token)."""
    hub_api, token = environ.get("JUPYTERHUB_API_URL"), environ.get("JUPYTERHUB_API_TOKEN")
    if not hub_api or not token:
        return None
    try:
        resp = httpx.get(f"{hub_api.rstrip('/')}/services/{SERVICE}", headers={"Authorization": f"token {token}"}, timeout=10)
        if resp.status_code == 200:
            svc = resp.json()
            if svc.get("url"):
                return f"{svc['url'].rstrip('/')}{svc.get('prefix') or f'/services/{SERVICE}/'}"
    except (httpx.HTTPError, ValueError):
        pass
    public = environ.get("JUPYTERHUB_PUBLIC_URL") or environ.get("JUPYTERHUB_PUBLIC_HUB_URL")
    if public:  # through the proxy, as a browser would
        base = public.split("/hub/")[0].rstrip("/")
        return f"{base}{environ.get('JUPYTERHUB_BASE_URL', '/').rstrip('/')}/services/{SERVICE}/"
    return None


def api_root(url: str) -> str:
    """``…/api/v1`` for any of: the host, the service prefix, or the API root itself."""
    url = url.rstrip("/")
    return url if url.endswith("/api/v1") else f"{url}/api/v1"


def discover(url: str | None = None, token: str | None = None, environ: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """(API root URL, token) from arguments, NXHUB_* variables, or the JupyterHub environment."""
    env = os.environ if environ is None else environ
    token = token or env.get("NXHUB_API_TOKEN") or env.get("JUPYTERHUB_API_TOKEN") or None
    url = url or env.get("NXHUB_API_URL") or _hub_service_url(env)
    if not url:
        raise CatalogError(0, "no API to talk to: pass open_catalog(url=...) or set NXHUB_API_URL (and NXHUB_API_TOKEN)")
    return api_root(url), token


class ApiClient:
    """A thin, thread-safe JSON client of ``/api/v1`` (one connection pool per catalog)."""

    def __init__(self, root: str, token: str | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self.root = root.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.root, headers=headers, timeout=TIMEOUT, transport=transport)

    def __repr__(self) -> str:
        return f"ApiClient({self.root!r})"

    def _get(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        """GET, asking again when the API says it is busy (503): reads are safe to repeat."""
        for pause in (*RETRY_PAUSES, None):
            resp = self._http.get(path, params=params)
            if resp.status_code != 503 or pause is None:
                return resp
            time.sleep(pause)
        return resp  # pragma: no cover

    def get(self, path: str, **params: Any) -> Any:
        resp = self._get(path, {k: v for k, v in params.items() if v is not None})
        self._check(resp)
        return resp.json()

    def text(self, path: str) -> str:
        resp = self._get(path)
        self._check(resp)
        return resp.text

    def stream(self, path: str) -> Iterator[bytes]:
        """The body of ``path`` in chunks (files, zips, exports), never held whole in memory."""
        with self._http.stream("GET", path) as resp:
            if resp.status_code >= 400:
                resp.read()
                self._check(resp)
            yield from resp.iter_bytes(1 << 20)

    def bytes(self, path: str) -> bytes:
        resp = self._get(path)
        self._check(resp)
        return resp.content

    @staticmethod
    def _check(resp: httpx.Response) -> None:
        if resp.status_code < 400:
            return
        try:
            message = resp.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = resp.reason_phrase
        raise CatalogError(resp.status_code, message)

    def close(self) -> None:
        self._http.close()
