"""``hub_config/jupyterhub_config.py`` loaded as JupyterHub loads it, for each sign-in switch and option.

The authenticators are built from the loaded config (not a hub), so a wrong trait
name or a missing setting fails here; the sign-in itself is in tests/e2e.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from pathlib import Path

import pytest
from traitlets.config.loader import PyFileConfigLoader

from nexuslims_kernel.config import set_settings
from nexuslims_kernel.db import Database
from nexuslims_kernel.db.directory import add_group, add_person, set_membership
from nexuslims_kernel.hub.auth import person_hook

HUB_CONFIG = Path(__file__).resolve().parents[2] / "hub_config" / "jupyterhub_config.py"
OIDC = {"auth": "oidc", "oidc_authorize_url": "https://idp.example.org/authorize", "oidc_token_url": "https://idp.example.org/token",
        "oidc_userdata_url": "https://idp.example.org/userinfo", "oidc_client_id": "nxhub", "public_url": "https://hub.example.org"}
LDAP = {"auth": "ldap", "ldap_server": "ldap.example.org", "ldap_bind_dn_template": "uid={username},ou=people,dc=example,dc=org"}


def load(settings, **hub):
    set_settings(dataclasses.replace(settings, hub=dataclasses.replace(settings.hub, **hub)))
    return PyFileConfigLoader(HUB_CONFIG.name, path=str(HUB_CONFIG.parent)).load_config()


def test_native_sign_in_is_the_default_with_approval_and_the_demo_accounts(settings, db: Database) -> None:
    with db.session(write=True) as sess:
        add_person(sess, "boss", is_admin=True)
    cfg = load(settings)
    assert cfg.JupyterHub.authenticator_class == "nexuslims_kernel.hub.native.DemoReadyNativeAuthenticator"
    assert cfg.NativeAuthenticator.open_signup is False and cfg.NativeAuthenticator.minimum_password_length >= 8
    assert cfg.DemoReadyNativeAuthenticator.demo_logins_file == str(settings.data_dir / "demo-logins.txt")
    assert cfg.Authenticator.admin_users == {"boss"} and cfg.Authenticator.manage_groups is True


def test_oidc_switch_configures_generic_oauth_and_refuses_missing_endpoints(settings, db: Database, monkeypatch) -> None:
    from oauthenticator.generic import GenericOAuthenticator

    with pytest.raises(SystemExit, match="NXHUB_HUB_OIDC_AUTHORIZE_URL"):
        load(settings, auth="oidc")
    monkeypatch.setenv("OAUTH_CLIENT_SECRET", "s3cret")
    cfg = load(settings, **OIDC)
    assert cfg.JupyterHub.authenticator_class == "generic-oauth"
    auth = GenericOAuthenticator(config=cfg)
    assert (auth.authorize_url, auth.token_url, auth.userdata_url) == (OIDC["oidc_authorize_url"], OIDC["oidc_token_url"], OIDC["oidc_userdata_url"])
    assert auth.client_id == "nxhub" and auth.client_secret == "s3cret" and auth.username_claim == "preferred_username"
    assert auth.oauth_callback_url == "https://hub.example.org/hub/oauth_callback"


def test_ldap_switch_configures_the_ldap_authenticator(settings, db: Database) -> None:
    from ldapauthenticator import LDAPAuthenticator

    with pytest.raises(SystemExit, match="NXHUB_HUB_LDAP_SERVER"):
        load(settings, auth="ldap")
    cfg = load(settings, **LDAP)
    assert cfg.JupyterHub.authenticator_class == "ldapauthenticator"
    auth = LDAPAuthenticator(config=cfg)
    assert auth.server_address == "ldap.example.org" and auth.bind_dn_template == [LDAP["ldap_bind_dn_template"]]
    assert cfg.Authenticator.post_auth_hook is not None


def test_demo_mode_stays_loopback_only(settings, db: Database) -> None:
    assert load(settings, demo=True).JupyterHub.authenticator_class == "dummy"
    with pytest.raises(SystemExit, match="refusing to listen on 0.0.0.0"):
        load(settings, demo=True, ip="0.0.0.0")


def test_users_servers_hold_only_their_own_token_and_reach_the_api(settings, db: Database) -> None:
    cfg = load(settings)
    roles = {r["name"]: r for r in cfg.JupyterHub.load_roles}
    assert set(roles["server"]["scopes"]) == {"users:activity!user", "access:servers!server", "access:services!service=nxhub-api"}
    assert roles["idle-culler"]["services"] == ["idle-culler"]
    assert {s["name"] for s in cfg.JupyterHub.services} == {"nxhub-api", "idle-culler", "nxhub-admin"}
    # nxhub users remove's service may manage users and servers, nothing else; its token is the hub's alone
    assert set(roles["nxhub-admin"]["scopes"]) == {"admin:users", "admin:servers"}
    token_file = settings.data_dir / "hub" / "admin-token"
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    env = cfg.Spawner.environment
    assert env["NXHUB_API_URL"].endswith(f":{settings.hub.service_port}/services/nxhub-api/api/v1")
    assert not any("DATABASE" in key or key == "NXHUB_DATA_DIR" for key in env)
    # never every server as the hub's own user, unless a site says so
    strongest = "AccountSpawner" if os.geteuid() == 0 else "SandboxSpawner"
    assert cfg.JupyterHub.spawner_class == f"nexuslims_kernel.hub.isolation.spawners.{strongest}"
    assert str(settings.data_dir) in cfg[strongest].hidden and cfg.Spawner.default_url == "/lab"
    assert load(settings, isolation="none").JupyterHub.spawner_class == "simple"
    assert cfg.JupyterHub.default_url == "/hub/home"
    assert str(settings.data_dir / "hub" / "home") in cfg.SimpleLocalProcessSpawner.home_dir_template


def test_shared_mount_hands_the_stores_to_the_catalog(settings, db: Database) -> None:
    from nexuslims_kernel.db.directory import add_instrument

    with db.session(write=True) as sess:
        add_instrument(sess, "Titan", timezone="UTC", filestore_root=str(settings.data_dir))
    assert "NXHUB_STORES" not in load(settings).Spawner.environment
    assert load(settings, file_access="shared-mount").Spawner.environment["NXHUB_STORES"] == f"Titan={settings.data_dir}"


def test_public_browse_adds_one_credential_less_voila_service(settings, db: Database) -> None:
    from nexuslims_kernel.hub.public_browse import clean_env

    services = {s["name"]: s for s in load(settings, public_browse=True).JupyterHub.services}
    assert "nxhub-public" in services and "environment" not in services["nxhub-public"]
    env = clean_env({"JUPYTERHUB_API_TOKEN": "t", "NXHUB_DATABASE_URL": "postgresql://x", "PATH": "/bin"}, "http://api")
    assert env == {"PATH": "/bin", "NXHUB_API_URL": "http://api", "NXHUB_PAGES_API_BASE": "/services/nxhub-api/api/v1"}


class _Authenticator:
    admin_users = {"hubboss"}
    log = logging.getLogger("test")


def _sign_in(db: Database, name: str, create: bool) -> dict:
    return asyncio.run(person_hook(db, create=create)(_Authenticator(), None, {"name": name}))


def test_sign_in_links_people_mirrors_groups_and_admins(db: Database) -> None:
    from tornado.web import HTTPError

    with db.session(write=True) as sess:
        add_person(sess, "alice")
        add_person(sess, "root-of-all", is_admin=True)
        add_group(sess, "tem-lab")
        set_membership(sess, "tem-lab", "alice", True)
    assert _sign_in(db, "alice", create=False) == {"name": "alice", "groups": ["tem-lab"], "admin": False}
    assert _sign_in(db, "root-of-all", create=False)["admin"] is True  # nxhub admin -> hub admin
    assert _sign_in(db, "hubboss", create=True)["admin"] is True  # hub admin stays admin, and is now a person
    with pytest.raises(HTTPError) as refused:
        _sign_in(db, "stranger", create=False)
    assert refused.value.status_code == 403 and "no user of that name" in refused.value.log_message
    assert _sign_in(db, "newcomer", create=True) == {"name": "newcomer", "groups": [], "admin": False}
    assert _sign_in(db, "newcomer", create=False)["name"] == "newcomer"  # created once, known after


def test_identity_provider_claims_are_hints_and_odd_names_are_refused(db: Database) -> None:
    from nexuslims_kernel.db.models import Person
    from nexuslims_kernel.hub.people import NotAPerson, link_person

    assert link_person(db, "oidc-user", create=True, display_name="O. User", email="not-an-address").created
    with db.session() as sess:
        person = sess.query(Person).filter_by(username="oidc-user").one()
        assert (person.display_name, person.email) == ("O. User", None)
    with pytest.raises(NotAPerson, match="cannot be an nxhub user name"):
        link_person(db, "has space", create=True)


def test_a_metrics_token_lets_prometheus_read_the_hubs_own_metrics(settings, db: Database) -> None:
    assert "nxhub-prometheus" not in {s["name"] for s in load(settings).JupyterHub.services}
    token = "a-metrics-token-of-some-length"
    set_settings(dataclasses.replace(settings, ops=dataclasses.replace(settings.ops, metrics_token=token)))
    config = PyFileConfigLoader(HUB_CONFIG.name, path=str(HUB_CONFIG.parent)).load_config()
    services = {s["name"]: s for s in config.JupyterHub.services}
    assert services["nxhub-prometheus"]["api_token"] == token and "command" not in services["nxhub-prometheus"]
    role = next(r for r in config.JupyterHub.load_roles if r["name"] == "nxhub-prometheus")
    assert role == {"name": "nxhub-prometheus", "services": ["nxhub-prometheus"], "scopes": ["read:metrics"]}
