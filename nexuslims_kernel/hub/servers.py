"""Users' servers, the hub's roles and its helper services (idle culler, public browsing).

Each user gets a local server (JupyterLab, with Voilà's server extension rendering the
pages copied from ``voila_apps/`` at ``/user/<name>/voila/render/nxhub-pages/...``) whose
only credentials are its own hub token: the ``server`` role lets that token report
activity, be reached, and call the ``nxhub-api`` service, which then sees that user and
nothing more. How servers are kept from the hub's files and from each other (an OS account
each, a bubblewrap sandbox, or neither) is :mod:`nexuslims_kernel.hub.isolation`.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from nexuslims_kernel.config import Settings
from nexuslims_kernel.pages.serve import VOILA_FLAGS, jupyter_path_with_template

API_SERVICE = "nxhub-api"
PUBLIC_SERVICE = "nxhub-public"
CULLER = "idle-culler"
METRICS_SERVICE = "nxhub-prometheus"  # Prometheus, scraping JupyterHub's own /hub/metrics with ops.metrics_token
PAGES_DIR = "nxhub-pages"  # inside each user's home, refreshed from voila_apps/ at every spawn
# Pages the hub's home page links to (file names in voila_apps/); "My sessions" is Browse filtered by owner.
PAGES = {"browse": "browse.ipynb", "record": "record.ipynb"}


def api_url(settings: Settings) -> str:
    """The API as users' servers reach it: the service directly on loopback, under its prefix."""
    return f"http://127.0.0.1:{settings.hub.service_port}/services/{API_SERVICE}/api/v1"


def roles(idle: bool = True) -> list[dict[str, Any]]:
    """Every user may call the API; a server's token may do only what the server needs, plus the API."""
    out = [
        {"name": "user", "scopes": ["self", f"access:services!service={API_SERVICE}"]},
        {"name": "server", "scopes": ["users:activity!user", "access:servers!server",
                                      f"access:services!service={API_SERVICE}"]},
    ]
    if idle:
        out.append({"name": CULLER, "services": [CULLER],
                    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]})
    return out


LAB_SETTINGS = {  # JupyterLab user settings written once per home (the user may change them after)
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false", "checkForUpdates": false}',
}


def prepare_home(repo: Path, home: Path) -> None:
    """The pages, and quiet JupyterLab defaults (no news pop-up from the internet) for a new home."""
    copy_pages(repo, home)
    settings_dir = home / ".jupyter" / "lab" / "user-settings"
    for name, text in LAB_SETTINGS.items():
        path = settings_dir / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)


def copy_pages(repo: Path, home: Path) -> None:
    """Refresh the user's copy of the pages (Voilà serves files under the server's root only)."""
    source = repo / "voila_apps"
    if not source.is_dir():
        return
    target = home / PAGES_DIR
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.pyc"))


def stores(db: Any) -> list[tuple[str, str]]:
    """(instrument, folder) of every instrument whose store is a local folder."""
    from sqlalchemy import select

    from nexuslims_kernel.db.models import Instrument

    if db is None:
        return []
    with db.session() as sess:
        rows = sess.execute(select(Instrument.name, Instrument.filestore_root).order_by(Instrument.name)).all()
    # a bucket store is no mount: its files reach notebooks through the API
    return [(name, root) for name, root in rows if root and root.startswith("/")]


def store_mounts(db: Any) -> str:
    """``Name=/root,...`` of every instrument store, as the catalog reads ``NXHUB_STORES`` (shared-mount mode)."""
    return ",".join(f"{name}={root}" for name, root in stores(db))


def configure_servers(c: Any, settings: Settings, repo: Path, state_dir: Path, db: Any = None) -> None:
    """Spawner, roles, idle culling, home page and the optional public browsing service."""
    from nexuslims_kernel.hub.isolation import configure_spawner, homes_dir

    hub = settings.hub
    homes = homes_dir(settings, state_dir)
    homes.mkdir(parents=True, exist_ok=True, mode=0o700)
    isolation = configure_spawner(c, settings, repo, state_dir, [Path(root) for _, root in stores(db)])
    c.Spawner.cmd = [sys.executable, "-m", "nexuslims_kernel.hub.launch", "singleuser"]
    c.Spawner.default_url = "/lab"
    c.Spawner.mem_limit = hub.server_memory or None  # MEM_LIMIT / CPU_LIMIT in the server (JupyterLab's indicator)
    c.Spawner.cpu_limit = hub.server_cpus or None
    c.Spawner.http_timeout = 60
    c.Spawner.start_timeout = 120
    idle = str(hub.idle_timeout_s)
    c.Spawner.args = [f"--MappingKernelManager.cull_idle_timeout={idle}", "--MappingKernelManager.cull_interval=300",
                      # the pages' own Voilà template (no CDN fonts), as ``nxhub pages serve`` uses
                      *VOILA_FLAGS]
    if os.geteuid() == 0:  # CI and containers run everything as root; Jupyter refuses that unless told
        c.Spawner.args.append("--allow-root")
    env = {"NXHUB_API_URL": api_url(settings), "MPLBACKEND": "Agg", "JUPYTER_PATH": jupyter_path_with_template()}
    if hub.file_access == "shared-mount" and db is not None:
        env["NXHUB_STORES"] = store_mounts(db)  # the catalog then opens raw files in place
    c.Spawner.environment = env

    def pre_spawn(spawner: Any) -> None:
        prepare_home(repo, Path(spawner.home_dir))

    c.Spawner.pre_spawn_hook = pre_spawn
    from nexuslims_kernel.hub.admin import service_and_role

    admin_service, admin_role = service_and_role(state_dir)
    c.JupyterHub.load_roles = [*roles(), admin_role]
    c.JupyterHub.services.append(admin_service)
    if settings.ops.metrics_token:  # one bearer token for both /hub/metrics and the API's /metrics
        c.JupyterHub.services.append({"name": METRICS_SERVICE, "api_token": settings.ops.metrics_token})
        c.JupyterHub.load_roles.append({"name": METRICS_SERVICE, "services": [METRICS_SERVICE], "scopes": ["read:metrics"]})
    c.JupyterHub.services.append({
        "name": CULLER,
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={idle}", "--cull-every=300"],
    })
    c.JupyterHub.default_url = "/hub/home"  # after sign-in: the home page with Browse / My sessions / JupyterLab
    c.JupyterHub.template_paths = [str(repo / "hub_config" / "templates")]
    c.JupyterHub.template_vars = {"nxhub_pages": PAGES, "nxhub_pages_dir": PAGES_DIR,
                                  "nxhub_public_browse": hub.public_browse, "nxhub_public_service": PUBLIC_SERVICE,
                                  "nxhub_isolation_warning": isolation_warning(isolation)}
    if hub.public_browse:
        c.JupyterHub.services.append(public_browse_service(settings, repo))


def isolation_warning(isolation: Any) -> str:
    """The home page's and the banner's one line when people's servers are not kept apart."""
    if isolation.mode != "none":
        return ""
    return ("Warning: people's servers are not isolated on this hub; any notebook can read the hub's data directory. "
            + ("Only one person may start a server." if isolation.sole_person else "(hub.isolation = none)"))


def public_browse_service(settings: Settings, repo: Path) -> dict[str, Any]:
    """One shared Voilà on the pages with no credentials: it sees what anonymous callers see."""
    port = settings.hub.service_port + 1
    return {
        "name": PUBLIC_SERVICE,
        "url": f"http://127.0.0.1:{port}",
        "command": [sys.executable, "-m", "nexuslims_kernel.hub.public_browse", str(repo / "voila_apps"), str(port),
                    api_url(settings)],
        "oauth_no_confirm": True,
    }
