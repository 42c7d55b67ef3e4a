"""hub_config evaluates under the chart's KubeSpawner settings, and users' pods come out right.

The hub pod's files and environment come from the rendered manifests (see hubpod.py) and the
config is loaded by JupyterHub's own loader. KubeSpawner then builds a user's pod manifest with
its built-in ``_mock`` user and hub (no hub process and no cluster run here).
"""

from __future__ import annotations

import asyncio
import base64

import kubernetes_validate
import pytest
import yaml
from helmkit import find, render, scenario_args, template
from hubpod import lay_out_hub, load_hub_config
from test_chart_manifests import K8S_VERSION


@pytest.fixture(params=["k3s", "gke"])
def hub(request, tmp_path, monkeypatch):
    docs = render(request.param)
    config_file, env = lay_out_hub(docs, tmp_path)
    return request.param, docs, load_hub_config(config_file, env, monkeypatch)


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: none, user: {token: unused}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


def _user_pod(config, tmp_path, monkeypatch) -> dict:
    """The pod KubeSpawner would create; its client is configured but never contacted."""
    import kubernetes_asyncio.config.kube_config as kube_config
    from kubernetes.client import ApiClient
    from kubespawner import KubeSpawner, clients

    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(tmp_path / "kubeconfig"))
    clients.load_config.cache_clear()

    async def build():
        spawner = KubeSpawner(config=config, _mock=True)
        return await spawner.get_pod_manifest()

    return ApiClient().sanitize_for_serialization(asyncio.run(build()))


def test_hub_config_keeps_the_charts_kubespawner_proxy_and_hub_settings(hub) -> None:
    _, _, cfg = hub
    assert cfg.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    assert cfg.JupyterHub.db_url == "sqlite:///jupyterhub.sqlite"  # the chart's, on the hub's PVC
    assert cfg.ConfigurableHTTPProxy.should_start is False
    assert cfg.ConfigurableHTTPProxy.api_url == "http://proxy-api:8001"
    # None of the local hub's loopback addresses, proxy command or state paths leaked in.
    assert "bind_url" not in cfg.JupyterHub and "command" not in cfg.ConfigurableHTTPProxy
    assert cfg.JupyterHub.hub_bind_url == "http://:8081"


def test_hub_registers_the_api_service_with_its_token_and_lets_users_call_it(hub) -> None:
    _, docs, cfg = hub
    services = {s["name"]: s for s in cfg.JupyterHub.services}
    token = base64.b64decode(find(docs, "Secret", "hub")["data"]["hub.services.nxhub-api.apiToken"]).decode()
    assert services["nxhub-api"]["url"] == "http://nxhub-api:8000"
    assert services["nxhub-api"]["api_token"] == token and len(token) >= 32
    assert "jupyterhub-idle-culler" in services, "the chart's own services stay"
    roles = {r["name"]: r for r in cfg.JupyterHub.load_roles}
    assert "access:services!service=nxhub-api" in roles["user"]["scopes"]
    assert "jupyterhub-idle-culler" in roles


def test_users_pod_from_kubespawner_is_valid_non_root_and_limited(hub, tmp_path, monkeypatch) -> None:
    _, _, cfg = hub
    pod = _user_pod(cfg, tmp_path, monkeypatch)
    kubernetes_validate.validate(pod, K8S_VERSION, strict=True)
    spec = pod["spec"]
    assert spec["securityContext"]["fsGroup"] == 100
    for container in spec.get("initContainers", []) + spec["containers"]:
        sc = container.get("securityContext") or {}
        assert sc.get("runAsUser", 1000) != 0 and not sc.get("privileged"), container["name"]
        assert container["resources"]["limits"]["memory"], container["name"]
    assert spec["containers"][0]["image"] == "ghcr.io/nexuslims-hub/nxhub-singleuser:0.1.0"
    env = {e["name"] for e in spec["containers"][0]["env"]}
    assert not {"NXHUB_DATABASE_URL", "PGPASSWORD"} & env


def test_instrument_stores_reach_users_pods_only_in_shared_mount_mode(hub, tmp_path, monkeypatch) -> None:
    scenario, _, cfg = hub
    pod = _user_pod(cfg, tmp_path, monkeypatch)
    mounts = {m["mountPath"]: m for m in pod["spec"]["containers"][0]["volumeMounts"]}
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    if scenario == "k3s":  # shared-mount
        assert mounts["/data/instruments/titan"]["readOnly"] is True
        assert env["NXHUB_STORES"] == "FEI-Titan=/data/instruments/titan"
    else:  # api mode: files only through the API
        assert not any(path.startswith("/data/instruments") for path in mounts)
        assert "NXHUB_STORES" not in env
    assert "/home/jovyan" in mounts, "per-user home volumes through z2jh"


HUB_REFUSALS = [
    ("k3s", "jupyterhub.singleuser.extraEnv.NXHUB_DATABASE_URL=postgresql://x@db/nxhub", "never the database"),
    ("gke", "jupyterhub.hub.loadRoles.user.scopes={self}", "cannot reach the API"),
]


@pytest.mark.parametrize(("scenario", "setting", "message"), HUB_REFUSALS, ids=["db-credentials-for-users", "user-role-without-api"])
def test_hub_refuses_values_that_break_the_one_gate_to_data(scenario, setting, message, tmp_path, monkeypatch) -> None:
    result = template([*scenario_args(scenario), "--set", setting])
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    config_file, env = lay_out_hub(docs, tmp_path)
    with pytest.raises(SystemExit, match=message):
        load_hub_config(config_file, env, monkeypatch)
