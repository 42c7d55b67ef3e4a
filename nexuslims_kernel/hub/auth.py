"""Who may sign in to the hub: the ``hub.auth`` switch and the hub-user <-> person link.

- ``native`` (default): JupyterHub NativeAuthenticator, hub accounts with sign-up
  and admin approval; the demo logins (``demo-logins.txt``) are created approved.
- ``oidc``: oauthenticator's GenericOAuthenticator against any OpenID Connect
  provider (endpoints and client id in settings, secret in ``OAUTH_CLIENT_SECRET``).
- ``ldap``: jupyterhub-ldapauthenticator with a bind DN template.
- ``hub.demo`` (loopback only) still overrides all of them: any name, no password.

Whatever the switch, each sign-in passes :func:`person_hook`, which maps it to
an nxhub person (see :mod:`.people`) and copies groups and admin rights.
"""

from __future__ import annotations

import asyncio
from typing import Any

from nexuslims_kernel.config import Settings
from nexuslims_kernel.hub.people import NotAPerson, admin_usernames, link_person

LOOPBACK = "127.0.0.1"
CLASSES = {
    "native": "nexuslims_kernel.hub.native.DemoReadyNativeAuthenticator",
    "oidc": "generic-oauth",
    "ldap": "ldapauthenticator",
}


def public_url(settings: Settings) -> str:
    hub = settings.hub
    return (hub.public_url or f"http://{hub.ip}:{hub.port}").rstrip("/")


def _require(settings: Settings, *names: str) -> None:
    missing = [f"NXHUB_HUB_{n.upper()}" for n in names if not getattr(settings.hub, n)]
    if missing:
        raise SystemExit(f"hub.auth={settings.hub.auth} needs {', '.join(missing)} (see README, Configuration)")


def configure_authenticator(c: Any, settings: Settings, db: Any) -> None:
    """Set ``c`` (the hub's traitlets config) for the chosen sign-in and the person link."""
    hub = settings.hub
    c.Authenticator.admin_users = admin_usernames(db)
    c.Authenticator.manage_groups = True
    c.Authenticator.post_auth_hook = person_hook(db, create=hub.create_people)
    if hub.demo:
        if hub.ip != LOOPBACK:
            raise SystemExit(f"NXHUB_HUB_DEMO lets anyone log in without a password; refusing to listen on {hub.ip}")
        c.JupyterHub.authenticator_class = "dummy"
        c.Authenticator.allow_all = True
        return
    c.JupyterHub.authenticator_class = CLASSES[hub.auth]
    # Each switch below has its own gate (approval, IdP, directory); the person link is the last one.
    c.Authenticator.allow_all = True
    if hub.auth == "native":
        c.NativeAuthenticator.open_signup = False
        c.NativeAuthenticator.minimum_password_length = 8
        c.NativeAuthenticator.check_common_password = True
        c.NativeAuthenticator.allowed_failed_logins = 5
        c.NativeAuthenticator.seconds_before_next_try = 60
        c.DemoReadyNativeAuthenticator.demo_logins_file = str(settings.data_dir / "demo-logins.txt")
    elif hub.auth == "oidc":
        _require(settings, "oidc_authorize_url", "oidc_token_url", "oidc_userdata_url", "oidc_client_id")
        c.GenericOAuthenticator.authorize_url = hub.oidc_authorize_url
        c.GenericOAuthenticator.token_url = hub.oidc_token_url
        c.GenericOAuthenticator.userdata_url = hub.oidc_userdata_url
        c.GenericOAuthenticator.client_id = hub.oidc_client_id
        c.GenericOAuthenticator.username_claim = hub.oidc_username_claim
        c.GenericOAuthenticator.scope = ["openid", "profile", "email"]
        c.GenericOAuthenticator.oauth_callback_url = f"{public_url(settings)}/hub/oauth_callback"
        c.GenericOAuthenticator.login_service = "your institution"
    elif hub.auth == "ldap":
        _require(settings, "ldap_server", "ldap_bind_dn_template")
        c.LDAPAuthenticator.server_address = hub.ldap_server
        c.LDAPAuthenticator.bind_dn_template = [hub.ldap_bind_dn_template]
        c.LDAPAuthenticator.tls_strategy = "on_connect" if hub.ldap_use_ssl else "before_bind"


def person_hook(db: Any, *, create: bool):
    """A ``post_auth_hook``: link the sign-in to a person, or refuse it with a page saying why."""

    async def hook(authenticator: Any, handler: Any, authentication: dict[str, Any]) -> dict[str, Any]:
        from tornado.web import HTTPError

        name = authentication["name"]
        claims = (authentication.get("auth_state") or {}).get(getattr(authenticator, "user_auth_state_key", ""), {}) or {}
        try:
            link = await asyncio.to_thread(link_person, db, name, create=create,
                                           display_name=claims.get("name"), email=claims.get("email"))
        except NotAPerson as exc:
            raise HTTPError(403, str(exc)) from None
        if link.created:
            authenticator.log.info("created nxhub user %s on first sign-in", name)
        authentication["groups"] = link.groups
        authentication["admin"] = link.is_admin or name in authenticator.admin_users
        return authentication

    return hook
