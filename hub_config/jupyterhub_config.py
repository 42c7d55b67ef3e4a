"""JupyterHub configuration for a local NexusLIMS Hub (one server, loopback by default).

Run with ``jupyterhub -f hub_config/jupyterhub_config.py``. The hub starts
configurable-http-proxy from the repository's ``node_modules`` and our REST API
(``nxhub api serve``) as the managed service ``nxhub-api`` behind
``/services/nxhub-api/``; every hub user may call it, and the API applies its own
record ACL. Hub state (its SQLite DB, cookie secret, pid files) lives in
``<nxhub data_dir>/hub``.

Hub knobs are the ``hub`` section of the nxhub settings (``NXHUB_HUB_IP``,
``NXHUB_HUB_PORT``, ``NXHUB_HUB_API_PORT``, ``NXHUB_HUB_PROXY_API_PORT``,
``NXHUB_HUB_SERVICE_PORT``, ``NXHUB_HUB_AUTH``, ``NXHUB_HUB_DEMO`` ...; see
``nxhub config``); the API service gets the same ``NXHUB_*`` settings. Sign-in
(NativeAuthenticator by default, OIDC or LDAP) and the hub-user <-> person link
are in ``nexuslims_kernel.hub.auth``; users' servers, roles, the idle culler and
the home page in ``nexuslims_kernel.hub.servers``. Demo mode (any name, no
password) is refused unless the hub listens on loopback.
"""

import os
import shutil
import sys
from pathlib import Path

from nexuslims_kernel.config import get_settings
from nexuslims_kernel.db import get_database
from nexuslims_kernel.hub.auth import configure_authenticator
from nexuslims_kernel.hub.components import proxy_binary
from nexuslims_kernel.hub.servers import configure_servers

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)

# -- Kubernetes (the nexuslims-hub Helm chart's hub): the chart already set the proxy, the hub and
#    KubeSpawner, and registered the API; k8s.py adds our part, and the local settings below go
#    to a Config nobody reads. --
if os.environ.get("NXHUB_HUB_KUBERNETES"):
    from traitlets.config import Config

    load_subconfig(str(Path(__file__).with_name("k8s.py")))  # noqa: F821 (JupyterHub's config loader)
    c = Config()

SERVICE = "nxhub-api"
PREFIX = f"/services/{SERVICE}/"
REPO = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"


def _nxhub_command():
    """``nxhub`` from the hub's own virtualenv, so the service runs the same code."""
    script = Path(sys.executable).with_name("nxhub")
    if script.exists():
        return [str(script)]
    found = shutil.which("nxhub")
    return [found] if found else [sys.executable, "-m", "nexuslims_kernel.cli.main"]


settings = get_settings()
state_dir = settings.data_dir / "hub"
state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
hub = settings.hub
ip, port, service_port = hub.ip, hub.port, hub.service_port

# -- addresses: public proxy, hub API and proxy API (both loopback only) --
c.JupyterHub.bind_url = f"http://{ip}:{port}/"
c.JupyterHub.hub_bind_url = f"http://{LOOPBACK}:{hub.api_port}"
c.ConfigurableHTTPProxy.api_url = f"http://{LOOPBACK}:{hub.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [proxy_binary() or "configurable-http-proxy"]
c.ConfigurableHTTPProxy.pid_file = str(state_dir / "proxy.pid")

# -- hub state under the nxhub data directory, not the current directory --
c.JupyterHub.db_url = f"sqlite:///{state_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state_dir / "cookie_secret")
c.JupyterHub.pid_file = str(state_dir / "jupyterhub.pid")

# -- the API as a managed service; it reads the same NXHUB_* settings as we do --
service_env = {k: v for k, v in os.environ.items() if k.startswith("NXHUB_") and not k.startswith("NXHUB_HUB_")}
service_env.update(
    NXHUB_DATA_DIR=str(settings.data_dir),
    NXHUB_API_AUTH="jupyterhub",
    NXHUB_API_BASE_PATH=PREFIX,
    NXHUB_API_HOST=LOOPBACK,
    NXHUB_API_PORT=str(service_port),
)
c.JupyterHub.services = [
    {
        "name": SERVICE,
        "url": f"http://{LOOPBACK}:{service_port}",
        "command": _nxhub_command() + ["api", "serve"],
        "environment": service_env,
        "oauth_no_confirm": True,
    },
]

if not os.environ.get("NXHUB_HUB_KUBERNETES"):  # on Kubernetes the chart's values choose these (k8s.py)
    # -- who may sign in, and which nxhub person they are --
    database = get_database(settings.db_url)
    configure_authenticator(c, settings, database)

    # -- users' servers (JupyterLab + Voila pages), roles and scopes, idle culler, home page --
    configure_servers(c, settings, REPO, state_dir, database)
