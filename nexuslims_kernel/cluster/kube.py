"""Pods per component and the worker Deployment of a nexuslims-hub release, via the kubernetes client."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nexuslims_kernel.errors import ConfigError, InvalidInputError, NotFoundError, NxhubError

# The order `nxhub cluster status` lists them in; users' servers are counted, not listed.
COMPONENTS = ("hub", "proxy", "api", "worker", "harvest", "indexer", "postgres")
NXHUB_NAME = "nexuslims-hub"
WORKER_SELECTOR = f"app.kubernetes.io/name={NXHUB_NAME},app.kubernetes.io/component=worker"


class ClusterError(NxhubError):
    """The cluster answered with an error, or cannot be reached."""

    exit_code = 69


@dataclass
class ComponentStatus:
    """Pods of one component: how many are ready, and what the others are doing."""

    component: str
    ready: int = 0
    total: int = 0
    pods: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_row(self) -> dict[str, Any]:
        return {"component": self.component, "ready": f"{self.ready}/{self.total}", "pods": ", ".join(self.pods),
                "problems": "; ".join(self.problems)}


def component_of(labels: dict[str, str]) -> str | None:
    """Which part of the hub a pod is, from the labels the two charts put on it."""
    if labels.get("app.kubernetes.io/name") == NXHUB_NAME:
        return labels.get("app.kubernetes.io/component")
    if labels.get("app") == "jupyterhub" or labels.get("app.kubernetes.io/name") == "jupyterhub":
        component = labels.get("component")
        if component == "singleuser-server":
            return "users"
        return component
    return None


def _pod_problem(pod: Any) -> str | None:
    """Why a pod is not ready (waiting reason, restarts), or None when it is."""
    status = pod.status
    if status is None or status.phase != "Running":
        return f"{pod.metadata.name}: {getattr(status, 'phase', None) or 'Unknown'}"
    for cs in status.container_statuses or []:
        if not cs.ready:
            waiting = cs.state.waiting if cs.state else None
            reason = waiting.reason if waiting else "not ready"
            return f"{pod.metadata.name}: {cs.name} {reason} (restarts {cs.restart_count})"
    return None


class ClusterView:
    """A nexuslims-hub release in one namespace, seen through kubernetes API objects.

    ``core``, ``apps`` and ``autoscaling`` are ``CoreV1Api``, ``AppsV1Api`` and
    ``AutoscalingV2Api`` (or anything answering the same calls with the client's models).
    """

    def __init__(self, core: Any, apps: Any, autoscaling: Any, namespace: str) -> None:
        self.core, self.apps, self.autoscaling, self.namespace = core, apps, autoscaling, namespace

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NxhubError:
            raise
        except Exception as exc:  # ApiException, urllib3 errors: one line, never a traceback
            status = getattr(exc, "status", None)
            reason = getattr(exc, "reason", None) or exc.__class__.__name__
            raise ClusterError(f"kubernetes API ({self.namespace}): {status or ''} {reason}".replace("  ", " ")) from None

    def components(self) -> dict[str, ComponentStatus]:
        """Every hub component (present or not) with its pods, plus users' servers if any."""
        out = {name: ComponentStatus(name) for name in COMPONENTS}
        pods = self._call(self.core.list_namespaced_pod, self.namespace).items
        for pod in pods:
            component = component_of(pod.metadata.labels or {})
            if component is None:
                continue
            entry = out.setdefault(component, ComponentStatus(component))
            entry.total += 1
            problem = _pod_problem(pod)
            if problem is None:
                entry.ready += 1
            else:
                entry.problems.append(problem)
            if component != "users":
                entry.pods.append(pod.metadata.name)
        return out

    def worker_deployment(self) -> Any:
        found = self._call(self.apps.list_namespaced_deployment, self.namespace, label_selector=WORKER_SELECTOR).items
        if not found:
            raise NotFoundError(f"no nexuslims-hub worker Deployment in namespace {self.namespace}")
        return found[0]

    def worker_autoscaler(self, deployment_name: str) -> Any | None:
        hpas = self._call(self.autoscaling.list_namespaced_horizontal_pod_autoscaler, self.namespace).items
        for hpa in hpas:
            ref = hpa.spec.scale_target_ref
            if ref.kind == "Deployment" and ref.name == deployment_name:
                return hpa
        return None

    def workers(self) -> dict[str, Any]:
        """Desired, ready and autoscaling bounds of the build workers."""
        dep = self.worker_deployment()
        hpa = self.worker_autoscaler(dep.metadata.name)
        pods = self._call(self.core.list_namespaced_pod, self.namespace, label_selector=WORKER_SELECTOR).items
        info: dict[str, Any] = {
            "deployment": dep.metadata.name,
            "desired": dep.spec.replicas if dep.spec.replicas is not None else 1,
            "ready": sum(_pod_problem(p) is None for p in pods),
            "autoscaler": None,
        }
        if hpa is not None:
            info["autoscaler"] = {"name": hpa.metadata.name, "min": hpa.spec.min_replicas or 1, "max": hpa.spec.max_replicas}
        return info

    def scale_workers(self, replicas: int) -> tuple[int, int]:
        """Set the worker Deployment's replicas; refuse when an HPA owns the count. Returns (before, after)."""
        if replicas < 0:
            raise InvalidInputError(f"workers must be 0 or more, not {replicas}")
        dep = self.worker_deployment()
        hpa = self.worker_autoscaler(dep.metadata.name)
        if hpa is not None:
            raise ConfigError(
                f"the workers are autoscaled by HorizontalPodAutoscaler {hpa.metadata.name} "
                f"({hpa.spec.min_replicas or 1}..{hpa.spec.max_replicas}); change worker.autoscaling in the Helm values instead"
            )
        before = dep.spec.replicas if dep.spec.replicas is not None else 1
        self._call(self.apps.patch_namespaced_deployment_scale, dep.metadata.name, self.namespace, {"spec": {"replicas": replicas}})
        return before, replicas


def cluster_from_kubeconfig(namespace: str, context: str | None = None) -> ClusterView:
    """A view through the kubeconfig (or the pod's service account when run in the cluster)."""
    try:
        from kubernetes import client, config
    except ImportError:
        raise ConfigError("nxhub cluster needs the kubernetes client: pip install 'nexuslims-hub[cluster]'") from None
    try:
        if context is not None:
            raise config.ConfigException("a kubeconfig context was asked for")
        config.load_incluster_config()
    except config.ConfigException:
        try:
            config.load_kube_config(context=context)
        except (config.ConfigException, OSError) as exc:
            raise ConfigError(f"no Kubernetes credentials: {exc}") from None
    return ClusterView(client.CoreV1Api(), client.AppsV1Api(), client.AutoscalingV2Api(), namespace)


def default_namespace(context: str | None = None) -> str:
    """The pod's own namespace in the cluster, else the kubeconfig context's, else 'default'."""
    from pathlib import Path

    in_pod = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
    if context is None and in_pod.is_file():
        return in_pod.read_text().strip()
    try:
        from kubernetes import config

        contexts, active = config.list_kube_config_contexts()
        chosen = next((c for c in contexts if c["name"] == context), active) if context else active
        return (chosen or {}).get("context", {}).get("namespace") or "default"
    except Exception:  # no kubeconfig, no client: the API call will say what is wrong
        return "default"
