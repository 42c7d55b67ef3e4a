"""NativeAuthenticator whose demo accounts exist, approved, from the hub's first start.

Imported only inside the hub (it needs ``jupyterhub-nativeauthenticator``).
The demo passwords come from the 0600 ``demo-logins.txt`` that ``nxhub up``
writes once; an account that already exists keeps its (maybe changed) password.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator import handlers as native_handlers
from tornado.escape import url_escape
from tornado.httputil import url_concat
from traitlets import Unicode

from nexuslims_kernel.hub.logins import read_logins


class DemoReadyNativeAuthenticator(NativeAuthenticator):
    """Hub accounts with sign-up and admin approval, plus the approved demo accounts."""

    demo_logins_file = Unicode("", config=True, help="File of 'username: password' lines created approved")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.demo_logins_file:
            self.seed_demo_accounts(Path(self.demo_logins_file))

    def get_handlers(self, app):
        return [(path, CompatLoginHandler if handler is native_handlers.LoginHandler else handler)
                for path, handler in super().get_handlers(app)]

    def seed_demo_accounts(self, path: Path) -> None:
        for username, password in read_logins(path.parent).items():
            if self.get_user(username) is not None:
                continue
            if self.create_user(username, password, is_authorized=True) is None:
                self.log.warning("could not create the demo account %s", username)
            else:
                self.log.info("created the approved demo account %s", username)


class _NoTimer:
    """JupyterHub 6 dropped statsd; NativeAuthenticator 1.3's login handler still times itself with it."""

    def timer(self, _name: str) -> _NoTimer:
        return self

    def start(self) -> _NoTimer:
        return self

    def stop(self, send: bool = True) -> None:
        return None


class CompatLoginHandler(native_handlers.LoginHandler):
    """NativeAuthenticator's login form, working under JupyterHub 6.

    JupyterHub 6 renders a refused sign-in (an HTTP error raised while logging in,
    e.g. "no user of that name") as the login form with the message, through
    ``_render(..., sync=True)``; the upstream handler has neither ``statsd`` nor ``sync``.
    """

    statsd = _NoTimer()
    _sync_templates_registered = False

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Upstream adds its templates to the async Jinja environment only; error pages render synchronously.
        if not CompatLoginHandler._sync_templates_registered:
            env = self.settings["jinja2_env_sync"]
            env.loader = ChoiceLoader([env.loader, FileSystemLoader([native_handlers.TEMPLATE_DIR])])
            CompatLoginHandler._sync_templates_registered = True

    def _render(self, login_error=None, username=None, sync=False, **_ignored):
        auth = self.authenticator
        return self.render_template(
            "native-login.html", sync=sync,
            next=url_escape(self.get_argument("next", default="")), username=username, login_error=login_error,
            custom_html=auth.custom_html, login_url=self.settings["login_url"], enable_signup=auth.enable_signup,
            two_factor_auth=auth.allow_2fa,
            authenticator_login_url=url_concat(auth.login_url(self.hub.base_url), {"next": self.get_argument("next", "")}),
        )
