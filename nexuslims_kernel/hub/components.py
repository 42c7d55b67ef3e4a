"""What ``nxhub up`` runs, and what it prepares on first start.

Components: JupyterHub (which runs configurable-http-proxy, the ``nxhub-api``
service and the idle culler), a build worker and the file-index watcher. Later
loops (the calendar harvest) join through :func:`register_component`.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from nexuslims_kernel.config import Settings
from nexuslims_kernel.hub.logins import ensure_logins, read_logins
from nexuslims_kernel.hub.supervisor import Component

REPO = Path(__file__).resolve().parents[2]
HUB_CONFIG = REPO / "hub_config" / "jupyterhub_config.py"
DEMO_ADMIN = "admin"

# Extra components: each factory gets (settings, env) and returns a Component, or None to skip.
# The calendar harvest loop is one (below); later loops register the same way.
ComponentFactory = Callable[[Settings, dict[str, str]], "Component | None"]
_EXTRA: list[ComponentFactory] = []


HARVEST_EVERY_S = 300


def register_component(factory: ComponentFactory) -> None:
    _EXTRA.append(factory)


def _harvest(settings: Settings, env: dict[str, str]) -> Component | None:
    """The calendar harvest loop (NEMO, iCalendar), once this nxhub has ``nxhub harvest --every``."""
    from nexuslims_kernel.cli.main import COMMANDS

    if "harvest" not in COMMANDS:
        return None
    return Component("harvest", [sys.executable, "-m", "nexuslims_kernel.cli.main", "harvest", "--every", str(HARVEST_EVERY_S)],
                     env=env, after="hub")


register_component(_harvest)


def hub_env(settings: Settings) -> dict[str, str]:
    """The environment every component gets: ours, with the data dir and hub ports pinned."""
    hub = settings.hub
    env = dict(os.environ)
    env.update(
        NXHUB_DATA_DIR=str(settings.data_dir), NXHUB_HUB_IP=hub.ip, NXHUB_HUB_PORT=str(hub.port),
        NXHUB_HUB_API_PORT=str(hub.api_port), NXHUB_HUB_PROXY_API_PORT=str(hub.proxy_api_port),
        NXHUB_HUB_SERVICE_PORT=str(hub.service_port), PYTHONUNBUFFERED="1",
    )
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def proxy_binary() -> str | None:
    """configurable-http-proxy pinned in package.json (``npm ci``), else one on PATH, else None."""
    local = REPO / "node_modules" / ".bin" / "configurable-http-proxy"
    return str(local) if local.exists() else shutil.which("configurable-http-proxy")


def local_url(settings: Settings) -> str:
    host = "127.0.0.1" if settings.hub.ip in ("0.0.0.0", "") else settings.hub.ip
    return f"http://{host}:{settings.hub.port}"


def hub_ready(settings: Settings) -> bool:
    """The hub answers through the proxy, and so does the API service behind it."""
    base = local_url(settings)
    with httpx.Client(timeout=2) as client:
        if client.get(f"http://127.0.0.1:{settings.hub.api_port}/hub/api/").status_code != 200:
            return False  # the hub itself first: probing the proxy before it routes only fills the log with 404s
        return (client.get(f"{base}/hub/api/").status_code == 200
                and client.get(f"{base}/services/nxhub-api/api/v1/openapi.json").status_code == 200)


def components(settings: Settings) -> list[Component]:
    env = hub_env(settings)
    nxhub = [sys.executable, "-m", "nexuslims_kernel.cli.main"]
    state = settings.data_dir / "hub"
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    out = [
        Component("hub", [sys.executable, "-m", "nexuslims_kernel.hub.launch", "hub", "-f", str(HUB_CONFIG)], env=env, cwd=str(state),
                  ready=lambda: hub_ready(settings)),
        Component("worker", nxhub + ["worker"], env=env, after="hub"),
        Component("watcher", nxhub + ["index", "--watch"], env=env, after="hub"),
    ]
    out += [c for c in (factory(settings, env) for factory in _EXTRA) if c is not None]
    return out


def first_start(settings: Settings, say: Callable[[str], None], demo: bool = True) -> dict[str, str]:
    """Data dir, database at the newest schema, the demo facility and its sign-ins; returns the logins.

    The demo is created only in a database with no instruments and no people (it never merges
    into a real facility); its sign-ins exist only where the demo facility does.
    """
    from nexuslims_kernel import db as dbmod
    from nexuslims_kernel.hub.isolation import lock_down

    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    database = dbmod.get_database(settings.db_url)
    dbmod.upgrade(database)
    lock_down(settings.data_dir)
    if demo and _facility_is_empty(database):
        _create_demo(settings, say)
    if not demo or not _demo_present(database):
        return read_logins(settings.data_dir)
    from nexuslims_kernel.demo.plan import USERS

    _ensure_demo_admin(database)
    return ensure_logins(settings.data_dir, [DEMO_ADMIN] + [u["username"] for u in USERS])


def _facility_is_empty(database) -> bool:
    from nexuslims_kernel.db.directory import count
    from nexuslims_kernel.db.models import Instrument, Person

    with database.session() as sess:
        return count(sess, Instrument) + count(sess, Person) == 0


def _demo_present(database) -> bool:
    """The demo made this facility (its mark in the database; never judged by names)."""
    from nexuslims_kernel.demo.facility import is_demo_facility

    with database.session() as sess:
        return is_demo_facility(sess)


def _create_demo(settings: Settings, say: Callable[[str], None]) -> None:
    from nexuslims_kernel.demo import run_demo

    say("empty data directory: building the demo facility (instruments, people, files, records)")
    done = run_demo(settings, progress=lambda step: say(f"demo: {step}"))
    say(f"demo ready: {len(done.sessions)} sessions and {done.files_written} files in {done.seconds} s")


def _ensure_demo_admin(database) -> None:
    """The demo's facility admin, who approves hub sign-ups (an nxhub admin is a hub admin)."""
    from sqlalchemy import select

    from nexuslims_kernel.db.directory import add_person
    from nexuslims_kernel.db.models import Person

    with database.session(write=True) as sess:
        if sess.scalar(select(Person.id).where(Person.username == DEMO_ADMIN)) is None:
            add_person(sess, DEMO_ADMIN, display_name="Facility admin", is_admin=True)
