"""`nxhub cluster status|scale workers N` against the kubernetes client's own model objects built
from the chart's rendered manifests (no live cluster: see fakekube.py), and a real database queue."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from fakekube import FakeCluster
from helmkit import render

import nexuslims_kernel.cluster.kube as kube
from nexuslims_kernel.cli.main import main
from nexuslims_kernel.config import set_settings
from nexuslims_kernel.db import reset_databases
from nexuslims_kernel.db.directory import add_instrument, add_person
from nexuslims_kernel.db.models import InstrumentSession

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def exit_code_of(args: tuple[str, ...]) -> int:
    """nxhub's exit status for these arguments, run in this process."""
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


class Nxhub:
    """Runs nxhub in-process against the test database and a fake cluster."""

    def __init__(self, monkeypatch, capsys) -> None:
        self.monkeypatch, self.capsys = monkeypatch, capsys

    def use(self, docs: list[dict]) -> FakeCluster:
        cluster = FakeCluster(docs)
        self.monkeypatch.setattr(kube, "cluster_from_kubeconfig", lambda ns, ctx=None: kube.ClusterView(cluster, cluster, cluster, ns))
        return cluster

    def __call__(self, *args: str) -> tuple[int, str, str]:
        set_settings(None)
        code = exit_code_of(args)
        return (code, *self.capsys.readouterr())


@pytest.fixture
def nxhub(env_for_cli, monkeypatch, capsys):
    """nxhub with only the test's NXHUB_* variables (its database), and no real cluster."""
    environment = {k: v for k, v in env_for_cli.items() if k.startswith("NXHUB_")}
    for key in [k for k in os.environ if k.startswith("NXHUB_") and k not in environment]:
        monkeypatch.delenv(key)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    yield Nxhub(monkeypatch, capsys)
    set_settings(None)
    reset_databases()


def queue_sessions(db, queued: int, building: int) -> None:
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "FEI-Titan")
        alice = add_person(sess, "alice", display_name="Alice")
        sess.flush()
        for i in range(queued + building):
            start = T0 + dt.timedelta(hours=3 * i)
            sess.add(InstrumentSession(instrument_id=inst.id, person_id=alice.id, start=start, end=start + dt.timedelta(hours=2),
                                       source="manual", status="TO_BE_BUILT" if i < queued else "BUILDING"))


def test_status_fake_api_from_rendered_manifests_counts_components_and_queue(nxhub, db) -> None:
    nxhub.use(render("k3s+dask-gateway"))
    queue_sessions(db, queued=5, building=1)
    code, out, err = nxhub("--json", "cluster", "-n", "nxhub", "status")
    assert code == 0, err
    report = json.loads(out)
    comps = {c["component"]: c for c in report["components"]}
    assert {k: (comps[k]["ready"], comps[k]["total"]) for k in ("hub", "proxy", "api", "worker", "harvest", "indexer", "postgres")} == {
        "hub": (1, 1), "proxy": (1, 1), "api": (1, 1), "worker": (1, 1), "harvest": (1, 1), "indexer": (1, 1), "postgres": (1, 1)}
    assert report["workers"] == {"deployment": "nxhub-worker", "desired": 1, "ready": 1, "autoscaler": None}
    assert report["queue"] == {"queued": 5, "building": 1}
    assert report["sessions_per_ready_worker"] == 6.0


def test_status_fake_api_from_rendered_manifests_shows_a_crashing_worker(nxhub, db) -> None:
    cluster = nxhub.use(render("default"))
    cluster.broken["nxhub-worker-1"] = "CrashLoopBackOff"
    code, out, err = nxhub("cluster", "-n", "nxhub", "status")
    assert code == 0, err
    assert "nxhub-worker-1: worker CrashLoopBackOff (restarts 4)" in out
    assert "workers: 1 ready of 2 desired (fixed replicas)" in out
    assert "build queue: 0 queued, 0 building, 0.0 per ready worker" in out
    # the external database of the default values: no in-cluster PostgreSQL pod
    assert "postgres" in out


def test_scale_workers_fake_api_from_rendered_manifests_patches_the_deployment(nxhub, db) -> None:
    cluster = nxhub.use(render("default"))
    code, out, err = nxhub("--json", "cluster", "-n", "nxhub", "scale", "workers", "6")
    assert code == 0, err
    assert json.loads(out) == {"namespace": "nxhub", "target": "workers", "from": 2, "to": 6}
    assert cluster.scaled == [("nxhub-worker", 6)]
    code, out, _ = nxhub("--json", "cluster", "-n", "nxhub", "status", "--no-queue")
    assert json.loads(out)["workers"]["desired"] == 6 and json.loads(out)["workers"]["ready"] == 6


def test_scale_workers_fake_api_from_rendered_manifests_refuses_when_an_hpa_owns_them(nxhub, db) -> None:
    cluster = nxhub.use(render("gke"))
    code, _, err = nxhub("cluster", "-n", "nxhub", "scale", "workers", "3")
    assert code == 78
    assert err.strip() == ("nxhub: error: the workers are autoscaled by HorizontalPodAutoscaler nxhub-worker (1..20); "
                           "change worker.autoscaling in the Helm values instead")
    assert cluster.scaled == []
    code, out, _ = nxhub("--json", "cluster", "-n", "nxhub", "status", "--no-queue")
    assert json.loads(out)["workers"]["autoscaler"] == {"name": "nxhub-worker", "min": 1, "max": 20}


def test_scale_rejects_negative_and_unknown_targets(nxhub, db) -> None:
    nxhub.use(render("default"))
    code, _, err = nxhub("cluster", "-n", "nxhub", "scale", "workers", "-1")
    assert code == 2
    code, _, err = nxhub("cluster", "-n", "nxhub", "scale", "api", "2")
    assert code == 2 and "workers" in err


def test_cluster_api_errors_are_one_line(nxhub, db) -> None:
    from kubernetes.client.exceptions import ApiException

    cluster = nxhub.use(render("default"))

    def forbidden(*args, **kwargs):
        raise ApiException(status=403, reason="Forbidden")

    cluster.list_namespaced_pod = forbidden
    code, out, err = nxhub("cluster", "-n", "nxhub", "status")
    assert code == 69
    assert err.strip() == "nxhub: error: kubernetes API (nxhub): 403 Forbidden"
