"""The kubernetes client's API calls, answered with its own model objects built from rendered manifests.

No cluster runs here, so ``CoreV1Api``/``AppsV1Api``/``AutoscalingV2Api`` are replaced by these
stand-ins: Deployments, StatefulSets and HPAs are the chart's manifests deserialized into
``V1Deployment`` and friends by the client's own ``ApiClient``; pods are made from each
workload's pod template (replicas of them), Running and ready unless a test says otherwise.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from kubernetes import client


def to_model(doc: dict, model: str):
    """A manifest as the client's model object, the way it decodes API responses."""
    return client.ApiClient().deserialize(SimpleNamespace(data=json.dumps(doc)), model)


def _matches(labels: dict[str, str], selector: str | None) -> bool:
    if not selector:
        return True
    return all(labels.get(k) == v for k, v in (part.split("=", 1) for part in selector.split(",")))


class FakeCluster:
    """One namespace holding what `helm install` of the rendered docs would create."""

    def __init__(self, docs: list[dict], namespace: str = "nxhub") -> None:
        self.namespace = namespace
        self.deployments = [to_model(d, "V1Deployment") for d in docs if d["kind"] == "Deployment"]
        self.statefulsets = [to_model(d, "V1StatefulSet") for d in docs if d["kind"] == "StatefulSet"]
        self.hpas = [to_model(d, "V2HorizontalPodAutoscaler") for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
        self.scaled: list[tuple[str, int]] = []
        self.broken: dict[str, str] = {}  # pod name -> waiting reason
        self.extra_pods: list[client.V1Pod] = []

    # -- CoreV1Api --
    def list_namespaced_pod(self, namespace: str, label_selector: str | None = None) -> client.V1PodList:
        assert namespace == self.namespace
        pods = []
        for owner in self.deployments + self.statefulsets:
            hpa = next((h for h in self.hpas if h.spec.scale_target_ref.name == owner.metadata.name), None)
            replicas = owner.spec.replicas if owner.spec.replicas is not None else (hpa.spec.min_replicas if hpa else 1)
            for i in range(replicas):
                pods.append(self._pod(f"{owner.metadata.name}-{i}", owner.spec.template))
        pods += self.extra_pods
        return client.V1PodList(items=[p for p in pods if _matches(p.metadata.labels or {}, label_selector)])

    def _pod(self, name: str, template: client.V1PodTemplateSpec) -> client.V1Pod:
        reason = self.broken.get(name)
        statuses = [
            client.V1ContainerStatus(
                name=c.name, image=c.image, image_id="", ready=reason is None, restart_count=4 if reason else 0,
                state=client.V1ContainerState(waiting=client.V1ContainerStateWaiting(reason=reason) if reason else None),
            )
            for c in template.spec.containers
        ]
        return client.V1Pod(
            metadata=client.V1ObjectMeta(name=name, namespace=self.namespace, labels=dict(template.metadata.labels or {})),
            spec=template.spec,
            status=client.V1PodStatus(phase="Running", container_statuses=statuses),
        )

    # -- AppsV1Api --
    def list_namespaced_deployment(self, namespace: str, label_selector: str | None = None) -> client.V1DeploymentList:
        assert namespace == self.namespace
        return client.V1DeploymentList(items=[d for d in self.deployments if _matches(d.metadata.labels or {}, label_selector)])

    def patch_namespaced_deployment_scale(self, name: str, namespace: str, body: dict) -> client.V1Scale:
        assert namespace == self.namespace
        dep = next(d for d in self.deployments if d.metadata.name == name)
        dep.spec.replicas = body["spec"]["replicas"]
        self.scaled.append((name, dep.spec.replicas))
        return client.V1Scale(metadata=client.V1ObjectMeta(name=name), spec=client.V1ScaleSpec(replicas=dep.spec.replicas))

    # -- AutoscalingV2Api --
    def list_namespaced_horizontal_pod_autoscaler(self, namespace: str) -> client.V2HorizontalPodAutoscalerList:
        assert namespace == self.namespace
        return client.V2HorizontalPodAutoscalerList(items=list(self.hpas))
