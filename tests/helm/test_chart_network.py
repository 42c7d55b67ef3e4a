"""NetworkPolicies: users' servers reach the API, never the database (in-cluster or external)."""

from __future__ import annotations

import pytest
from helmkit import SCENARIOS, find, hub_values, render
from netpol import Endpoint, allowed

ALL = sorted(SCENARIOS)


def _pod(docs: list[dict], kind: str, name: str, ip: str) -> Endpoint:
    doc = find(docs, kind, name)
    template = doc["spec"]["template"]
    names = {p["containerPort"]: p["name"] for c in template["spec"]["containers"] for p in c.get("ports") or [] if "name" in p}
    return Endpoint(ip=ip, labels=dict(template["metadata"]["labels"]), port_names=names)


def _users_server(docs: list[dict]) -> Endpoint:
    """A user's server as KubeSpawner labels it: the chart's singleuser labels plus extraLabels."""
    policy = find(docs, "NetworkPolicy", "singleuser")
    labels = dict(policy["spec"]["podSelector"]["matchLabels"])
    labels.update(hub_values(docs)["singleuser"].get("extraLabels") or {})
    labels.update({"hub.jupyter.org/username": "alice", "app.kubernetes.io/component": "singleuser-server"})
    return Endpoint(ip="10.42.3.7", labels=labels)


@pytest.mark.parametrize("scenario", ALL)
def test_users_servers_reach_the_api(scenario: str) -> None:
    docs = render(scenario)
    api = _pod(docs, "Deployment", "nxhub-api", "10.42.1.5")
    assert allowed(docs, _users_server(docs), api, 8000)


@pytest.mark.parametrize("scenario", ALL)
def test_users_servers_never_reach_a_database_port(scenario: str) -> None:
    docs = render(scenario)
    user = _users_server(docs)
    # External PostgreSQL on a private address (Cloud SQL, RDS, Azure flexible server) or a public one.
    for ip in ("10.20.0.5", "172.20.4.4", "192.168.10.2", "35.200.1.1", "52.18.7.9"):
        assert not allowed(docs, user, Endpoint(ip=ip), 5432), f"users' servers may reach {ip}:5432"
    if any(d["kind"] == "StatefulSet" and d["metadata"]["name"] == "nxhub-postgres" for d in docs):
        pg = _pod(docs, "StatefulSet", "nxhub-postgres", "10.42.2.9")
        assert not allowed(docs, user, pg, 5432)


@pytest.mark.parametrize("scenario", ALL)
def test_users_servers_still_reach_the_web(scenario: str) -> None:
    docs = render(scenario)
    assert allowed(docs, _users_server(docs), Endpoint(ip="151.101.0.223"), 443)  # e.g. PyPI


def test_nxhub_pods_reach_the_in_cluster_database_and_others_do_not() -> None:
    docs = render("k3s")
    pg = _pod(docs, "StatefulSet", "nxhub-postgres", "10.42.2.9")
    for name in ("nxhub-api", "nxhub-worker", "nxhub-harvest", "nxhub-indexer"):
        assert allowed(docs, _pod(docs, "Deployment", name, "10.42.1.8"), pg, 5432), name
    proxy = _pod(docs, "Deployment", "proxy", "10.42.0.4")
    hub = _pod(docs, "Deployment", "hub", "10.42.0.3")
    assert not allowed(docs, proxy, pg, 5432)
    assert not allowed(docs, hub, pg, 5432)


def test_proxy_reaches_the_api_and_the_api_reaches_the_hub() -> None:
    docs = render("gke")
    api = _pod(docs, "Deployment", "nxhub-api", "10.8.1.5")
    assert allowed(docs, _pod(docs, "Deployment", "proxy", "10.8.0.4"), api, 8000)
    assert allowed(docs, api, _pod(docs, "Deployment", "hub", "10.8.0.3"), 8081)


def test_workers_accept_no_connections() -> None:
    docs = render("default")
    worker = _pod(docs, "Deployment", "nxhub-worker", "10.8.2.2")
    assert not allowed(docs, _users_server(docs), worker, 8786)
    assert not allowed(docs, _pod(docs, "Deployment", "nxhub-api", "10.8.1.5"), worker, 8000)
