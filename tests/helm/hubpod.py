"""The chart's hub pod, laid out on disk from rendered manifests, and its config loaded as JupyterHub does.

What the kubelet would do for the hub container: its ConfigMap and Secret volumes become files
(under a temporary root instead of ``/``), its environment is resolved (secretKeyRef, fieldRef,
and the ``*_SERVICE_HOST/PORT`` variables Kubernetes adds for each Service), and the project's
``hub_config/`` goes where ``docker/Dockerfile.hub`` copies it. Then ``JupyterHub.load_config_file``
runs the chart's own ``jupyterhub_config.py``, which runs ours through ``hub.extraConfig``.
"""

from __future__ import annotations

import base64
import shutil
import sys
from pathlib import Path

from helmkit import NAMESPACE, REPO, find

ETC = "/usr/local/etc/jupyterhub"
SRV = "/srv/jupyterhub"


def _volume_files(docs: list[dict], volume: dict) -> dict[str, str]:
    if "configMap" in volume:
        return dict(find(docs, "ConfigMap", volume["configMap"]["name"]).get("data") or {})
    if "secret" in volume:
        data = find(docs, "Secret", volume["secret"]["secretName"]).get("data") or {}
        return {k: base64.b64decode(v).decode() for k, v in data.items()}
    return {}


def _relocate(text: str, root: Path) -> str:
    return text.replace(ETC, f"{root}{ETC}").replace(SRV, f"{root}{SRV}")


def lay_out_hub(docs: list[dict], root: Path) -> tuple[Path, dict[str, str]]:
    """Write the hub pod's files under `root`; return its config file and environment."""
    deployment = find(docs, "Deployment", "hub")
    spec = deployment["spec"]["template"]["spec"]
    container = spec["containers"][0]
    volumes = {v["name"]: v for v in spec["volumes"]}
    for mount in container["volumeMounts"]:
        target = Path(f"{root}{mount['mountPath']}")
        files = _volume_files(docs, volumes[mount["name"]])
        if "subPath" in mount:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_relocate(files[mount["subPath"]], root))
            continue
        target.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (target / name).write_text(_relocate(text, root))
    shutil.copytree(REPO / "hub_config", Path(f"{root}{ETC}/nxhub"), ignore=shutil.ignore_patterns("__pycache__"))

    env = {"PYTHONUNBUFFERED": "1"}
    for var in container.get("env") or []:
        if "value" in var:
            env[var["name"]] = _relocate(str(var["value"]), root)
        elif "secretKeyRef" in var.get("valueFrom", {}):
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = _volume_files(docs, {"secret": {"secretName": ref["name"]}})[ref["key"]]
        elif var.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
            env[var["name"]] = NAMESPACE
    for svc in (d for d in docs if d["kind"] == "Service"):
        prefix = svc["metadata"]["name"].upper().replace("-", "_")
        env[f"{prefix}_SERVICE_HOST"] = "10.43.0.10"
        env[f"{prefix}_SERVICE_PORT"] = str(svc["spec"]["ports"][0]["port"])
    return Path(f"{root}{ETC}/jupyterhub_config.py"), env


def load_hub_config(config_file: Path, env: dict[str, str], monkeypatch) -> object:
    """The traitlets Config the hub would run with, loaded the way JupyterHub loads it."""
    from jupyterhub.app import JupyterHub
    from tornado.httpclient import AsyncHTTPClient

    import nexuslims_kernel.config.settings as nx_settings

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(nx_settings, "_current", None)  # the hub's own NXHUB_* settings
    monkeypatch.setattr(sys, "path", list(sys.path))  # z2jh's config prepends its directory
    monkeypatch.delitem(sys.modules, "z2jh", raising=False)  # z2jh memoises the values it read
    monkeypatch.chdir(config_file.parent)
    try:
        app = JupyterHub()
        app.load_config_file(str(config_file))
        return app.config
    finally:
        sys.modules.pop("z2jh", None)
        AsyncHTTPClient.configure(None)  # the chart's config switches tornado to curl process-wide
