"""The hub's Logger API over HTTP, with the standard library only (urllib), so the zipapp needs nothing installed.

Failures are sorted by what the sender must do about them:
``Unreachable`` (network, timeout, 5xx, 429: retry later), ``Unauthorized``
(401/403: the token is wrong or revoked, keep everything and tell the
operator) and ``Refused`` (any other 4xx: the server will never accept this
request as it is).
"""

from __future__ import annotations

import json
from typing import Any

from nxhub_logger import __version__


class HubError(Exception):
    """Base of every failure talking to the hub; ``str()`` is a one-line reason for the operator."""

    status: int | None = None


class Unreachable(HubError):
    """Try again later: the hub is down, slow or overloaded."""


class Unauthorized(HubError):
    """The instrument token was refused (revoked or mistyped)."""


class Refused(HubError):
    """The hub answered that this request is invalid; resending it will not help."""


class HubClient:
    """One hub, one instrument token. ``base_url`` is the hub's address, e.g. https://hub.example.org/services/api."""

    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self.base = base_url.rstrip("/")
        if not self.base.endswith("/api/v1"):
            self.base += "/api/v1"
        self.token = token
        self.timeout = timeout

    def _request(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        import http.client  # here, not at import: the window shows before the HTTP stack (with ssl) is loaded
        import urllib.error
        import urllib.parse
        import urllib.request

        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Accept": "application/json",
            "User-Agent": f"nxhub-logger/{__version__}", **({"Content-Type": "application/json"} if data else {}),
        })
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise _classify(exc.code, _message(exc)) from None
        except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts and resets are OSErrors
            reason = getattr(exc, "reason", exc)
            raise Unreachable(f"hub unreachable: {reason}") from None
        except ValueError as exc:  # a proxy's HTML page instead of JSON
            raise Unreachable(f"hub sent an answer that is not JSON: {exc}") from None

    def heartbeat(self) -> dict[str, Any]:
        return self._request("GET", "/logger/heartbeat")

    def reservations(self) -> dict[str, Any]:
        return self._request("GET", "/logger/reservations")

    def files_since(self, since: str) -> dict[str, Any]:
        return self._request("GET", "/logger/files", query={"since": since})

    def post_events(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send events in one request; the server's per-event results, in the same order."""
        return self._request("POST", "/logger/events", {"events": events})["results"]


def _message(exc: Any) -> str:
    """The hub's one-line reason from a urllib HTTPError's JSON body."""
    try:
        raw = exc.read()
        return str(json.loads(raw)["error"]["message"])[:500]
    except Exception:
        return exc.reason if isinstance(exc.reason, str) else f"HTTP {exc.code}"


def _classify(status: int, message: str) -> HubError:
    if status in (401, 403):
        err: HubError = Unauthorized(f"the hub refused the instrument token ({status}: {message})")
    elif status in (408, 425, 429) or status >= 500:
        err = Unreachable(f"hub error {status}: {message}")
    else:
        err = Refused(f"{status}: {message}")
    err.status = status
    return err
