"""The hub's NexusLIMS part on Kubernetes, on top of the Helm chart's KubeSpawner settings.

``jupyterhub_config.py`` loads this file (``load_subconfig``) when ``NXHUB_HUB_KUBERNETES`` is
set, which the nexuslims-hub chart does for its hub. By then the Zero to JupyterHub chart's own
configuration has set the proxy, the hub's addresses, its database and KubeSpawner, and has
registered the API (``hub.services.nxhub-api``, with its token). This file adds only what is
ours, reading the chart's values through z2jh's helper module:

- people's servers are kept apart by KubeSpawner itself: one pod per person, with its own
  filesystem and process space (``hub.isolation`` is for one machine and does not apply here);
- every hub user may call the API, which then applies the record ACL itself;
- in ``shared-mount`` mode the instrument stores are mounted read-only into users' servers
  (and ``NXHUB_STORES`` tells the catalog where), in ``api`` mode they are not;
- users' servers never get database credentials: the hub refuses to start if the chart's
  singleuser environment carries any.

Lists and dicts are extended (``append``/``update``), never replaced, so what the chart set stays.
"""

from z2jh import get_config as chart_value  # the chart's values, mounted into the hub pod

c = get_config()  # noqa: F821 (provided by JupyterHub's config loader)

SERVICE = "nxhub-api"
NX = chart_value("custom.nexuslims", {}) or {}
MODES = ("api", "shared-mount")

# -- who may use the API: every user (the API filters records per user) --
ACCESS = f"access:services!service={SERVICE}"
own_user_role = (chart_value("hub.loadRoles", {}) or {}).get("user")
if own_user_role is None:
    c.JupyterHub.load_roles.append({"name": "user", "scopes": ["self", ACCESS]})
elif ACCESS not in (own_user_role.get("scopes") or []):
    raise SystemExit(f"hub.loadRoles.user replaces the default user role: add {ACCESS!r} to its scopes or users cannot reach the API")

# -- never a database credential in a user's server --
_forbidden = [
    name for name, value in (chart_value("singleuser.extraEnv", {}) or {}).items()
    if name == "NXHUB_DATABASE_URL" or "postgresql" in str(value)
]
if _forbidden:
    raise SystemExit(f"singleuser.extraEnv {', '.join(sorted(_forbidden))}: users' servers must reach data through the API, never the database")

# -- instrument stores in users' servers, only in shared-mount mode --
mode = NX.get("userDataMode", "api")
if mode not in MODES:
    raise SystemExit(f"custom.nexuslims.userDataMode={mode!r}: use one of {', '.join(MODES)}")
if mode == "shared-mount":
    stores = NX.get("instrumentStores") or []
    c.KubeSpawner.volumes.update({f"nxhub-store-{s['name']}": {"name": f"nxhub-store-{s['name']}", **s["volume"]} for s in stores})
    c.KubeSpawner.volume_mounts.update({
        f"nxhub-store-{s['name']}": {"name": f"nxhub-store-{s['name']}", "mountPath": s["mountPath"], "readOnly": True}
        for s in stores
    })
    located = ",".join(f"{s['instrument']}={s['mountPath']}" for s in stores if s.get("instrument"))
    if located:
        c.KubeSpawner.environment.update({"NXHUB_STORES": located})
