"""Who is calling: instrument tokens, personal tokens (standalone) or JupyterHub (hub mode).

Tokens come in ``Authorization: Bearer <token>`` (or ``token <token>``, the
JupyterHub spelling); never in the URL, so they do not end up in access logs.
No credentials means anonymous (public records only); a wrong token is 401.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any, Protocol

import tornado.web

from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.db import Database
from nexuslims_kernel.db.acl import Principal
from nexuslims_kernel.db.api_tokens import PRINCIPALS, resolve_token
from nexuslims_kernel.db.tokens import PREFIX

_AUTH_RE = re.compile(r"(?:bearer|token)\s+(\S+)\s*$", re.IGNORECASE)


def bearer_token(handler: tornado.web.RequestHandler) -> str | None:
    header = handler.request.headers.get("Authorization")
    if not header:
        return None
    match = _AUTH_RE.match(header)
    if match is None:
        raise ApiError(401, "Authorization header must be 'Bearer <token>'")
    return match.group(1)


class Authenticator(Protocol):
    async def authenticate(self, handler: Any) -> Principal: ...


class TokenAuth:
    """Standalone mode: our own hashed tokens (personal and per-instrument)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def lookup(self, token: str) -> Principal | None:
        generation = PRINCIPALS.generation()
        with self.db.session() as sess:
            principal, expires_at = resolve_token(sess, token)
        if principal is not None:
            PRINCIPALS.put(token, principal, generation, expires_at)
        return principal

    async def resolve(self, handler: Any, token: str) -> Principal:
        """The token's principal: from the short-lived cache (no thread hop) or one query; 401 if unknown."""
        principal = PRINCIPALS.get(token) or await handler.run(self.lookup, token)
        if principal is None:
            raise ApiError(401, "invalid or revoked token")
        return principal

    async def authenticate(self, handler: Any) -> Principal:
        token = bearer_token(handler)
        if token is None:
            return Principal.anonymous()
        return await self.resolve(handler, token)


class HubAuthenticator(TokenAuth):
    """Hub mode: JupyterHub OAuth cookies and API tokens; Logger tokens still ours.

    Hub users map to people by username; hub admins are admins here too.
    """

    def __init__(self, db: Database, hub_auth: Any) -> None:
        super().__init__(db)
        self.hub_auth = hub_auth  # jupyterhub.services.auth.HubOAuth

    def principal_for_model(self, model: dict[str, Any]) -> Principal:
        with self.db.session() as sess:
            return Principal.for_username(sess, model["name"], is_admin=bool(model.get("admin")))

    async def authenticate(self, handler: Any) -> Principal:
        token = bearer_token(handler)
        if token is not None and token.startswith(PREFIX):
            return await self.resolve(handler, token)
        model = await self.hub_auth.get_user(handler, sync=False)
        if not model:
            if token is not None:
                raise ApiError(401, "the hub does not know this token")
            return Principal.anonymous()
        if model.get("kind", "user") != "user":
            return Principal.anonymous()  # services get public data only
        scopes = self.hub_auth.access_scopes
        if scopes and not self.hub_auth.check_scopes(scopes, model):
            raise ApiError(403, "your hub token does not grant access to this service")
        return await handler.run(self.principal_for_model, model)


def make_hub_auth(base_path: str, **config: Any) -> Any:
    """A HubOAuth configured from the JUPYTERHUB_* variables the hub gives its services."""
    from jupyterhub.services.auth import HubOAuth

    return HubOAuth(base_url=base_path, cache_max_age=60, **config)


_URL_STRIPPED = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def safe_next(wanted: str, prefix: str) -> str | None:
    """``wanted`` if it is a path under this service's ``prefix``, as a browser would read it; else None.

    Browsers drop tabs and newlines anywhere in a URL and trim leading and
    trailing spaces and controls (WHATWG URL), so ``/%09/evil.example`` is
    ``//evil.example`` to them: normalise the same way first, then accept only
    a plain absolute path under ``prefix`` (no scheme, host, ``//``, ``\\``,
    dot segments, spaces or other unprintable characters).
    """
    value = _URL_STRIPPED.sub("", wanted).strip(_C0_AND_SPACE)
    if not value.startswith(prefix) or not value.startswith("/") or "//" in value or "\\" in value:
        return None
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or not c.isprintable() for c in value):
        return None
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme or parsed.netloc or any(seg in (".", "..") for seg in parsed.path.split("/")):
        return None
    return value


def login_handler() -> type:
    """GET {prefix}login?next=<path>: a browser's way in (hub mode).

    The API answers anonymous callers with public records rather than
    redirecting every JSON request, so pages link here to sign in: it sets
    HubOAuth's state cookie and sends the browser to the hub's OAuth authorize
    URL; the hub's callback lands back on ``next``. ``next`` must be a path
    under this service (no open redirects).
    """
    from tornado.httputil import url_concat

    class LoginHandler(tornado.web.RequestHandler):
        def initialize(self, hub_auth: Any, prefix: str) -> None:
            self.hub_auth, self.prefix = hub_auth, prefix

        def get(self) -> None:
            default = self.prefix + "api/v1/"
            wanted = safe_next(self.get_query_argument("next", default), self.prefix)
            state = self.hub_auth.set_state_cookie(self, next_url=wanted or default)
            self.redirect(url_concat(self.hub_auth.login_url, {"state": state}))

    return LoginHandler


def oauth_callback_handler() -> type:
    """The hub's OAuth callback handler, bound to our HubOAuth instance (browsers log in through it)."""
    from jupyterhub.services.auth import HubOAuthCallbackHandler

    class OAuthCallbackHandler(HubOAuthCallbackHandler):
        def initialize(self, hub_auth: Any) -> None:
            self.hub_auth = hub_auth

    return OAuthCallbackHandler
