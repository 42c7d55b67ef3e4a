"""The spawners behind ``hub.isolation``: sandboxed, one account per person, or a single person's.

All three are JupyterHub's ``SimpleLocalProcessSpawner`` (homes under the hub's homes folder, the
hub starts the process) with the server's command wrapped: :class:`SandboxSpawner` in bubblewrap,
:class:`AccountSpawner` additionally as the person's own OS account, :class:`SolePersonSpawner`
unwrapped but refusing a second person (the fallback where no isolation is possible).
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner, set_user_setuid
from tornado import web
from traitlets import Bool, List, Unicode

from nexuslims_kernel.hub.isolation.accounts import Account, AccountError, ensure_account, own_home
from nexuslims_kernel.hub.isolation.sandbox import Sandbox

NOBODY = "nobody"


def refusal(reason: str) -> web.HTTPError:
    """A 403 whose one-line reason JupyterHub shows the person on its spawn page (not only in the log)."""
    error = web.HTTPError(403, reason)
    error.jupyterhub_message = reason
    return error


class SandboxSpawner(SimpleLocalProcessSpawner):
    """Each server in its own bubblewrap sandbox (mount, PID, IPC namespaces), as the hub's user."""

    bwrap = Unicode("bwrap", config=True, help="bubblewrap program")
    read_only = List(Unicode(), config=True, help="Folders the server sees read-only (the software)")
    hidden = List(Unicode(), config=True, help="Folders the server never sees (data dir, homes, stores)")
    shared = List(Unicode(), config=True, help="Stores the server sees read-only (shared-mount)")

    def sandbox(self, user_namespace: bool) -> Sandbox:
        return Sandbox(self.bwrap, Path(self.home_dir), [Path(p) for p in self.read_only],
                       [Path(p) for p in self.hidden], [Path(p) for p in self.shared], user_namespace=user_namespace)

    def account(self) -> Account | None:
        """Whom the server runs as inside the sandbox; None = the hub's own user (in a user namespace)."""
        if os.geteuid() != 0:
            return None
        entry = pwd.getpwnam(NOBODY)  # a root hub told to sandbox still never runs people's code as root
        account = Account(NOBODY, entry.pw_uid, entry.pw_gid, ())
        own_home(Path(self.home_dir), account)
        return account

    def wrap(self, cmd: list[str]) -> list[str]:
        account = self.account()
        become = None if account is None else (account.uid, account.gid, list(account.groups))
        return self.sandbox(user_namespace=account is None).argv(cmd, become=become)

    async def start(self):
        base = list(self.cmd)
        try:
            self.cmd = self.wrap(base)
        except AccountError as exc:
            raise refusal(str(exc)) from None
        try:
            return await super().start()
        finally:
            self.cmd = base


class AccountSpawner(SandboxSpawner):
    """Each server as the person's own OS account (created on first spawn), in a sandbox when bubblewrap works."""

    use_sandbox = Bool(True, config=True, help="Also wrap the server in bubblewrap (needs it installed)")
    readers = Bool(False, config=True, help="Accounts join the nxhub-readers group (shared-mount)")

    def account(self) -> Account:
        return ensure_account(self.user.name, Path(self.home_dir), readers=self.readers)

    def wrap(self, cmd: list[str]) -> list[str]:
        if self.use_sandbox:
            return super().wrap(cmd)
        self._plain_account = self.account()
        return cmd

    def make_preexec_fn(self, name):
        if self.use_sandbox:
            return super().make_preexec_fn(name)
        return set_user_setuid(self._plain_account.name)  # no bubblewrap: LocalProcessSpawner's own setuid

    def user_env(self, env):
        env = super().user_env(env)
        env["SHELL"] = "/bin/sh"
        return env


class SolePersonSpawner(SimpleLocalProcessSpawner):
    """No isolation possible and none not chosen: the first person to start a server is the only one who may."""

    owner_file = Unicode(config=True, help="Where the one person's name is kept")
    why = Unicode(config=True, help="Why nothing stronger runs here")

    async def start(self):
        path = Path(self.owner_file)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(self.user.name)
        except FileExistsError:
            owner = path.read_text().strip()
            if owner != self.user.name:
                raise refusal(f"{self.user.name}'s server was not started: this machine cannot keep people's "
                              f"servers apart ({self.why}), so only {owner} may run one; an admin can run the "
                              "hub as root, install bubblewrap, or set hub.isolation = \"none\"") from None
        return await super().start()
