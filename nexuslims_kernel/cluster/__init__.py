"""The hub on Kubernetes as the ``nxhub cluster`` command sees it: pods per component, workers, queue.

Reads and scales what the nexuslims-hub Helm chart deployed, through the ``kubernetes`` Python
client (optional extra ``cluster``). The API objects are passed in, so the same code runs
against a cluster or against objects built from rendered manifests.
"""

from nexuslims_kernel.cluster.kube import ClusterView, ComponentStatus, cluster_from_kubeconfig

__all__ = ["ClusterView", "ComponentStatus", "cluster_from_kubeconfig"]
