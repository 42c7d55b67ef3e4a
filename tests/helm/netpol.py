"""A small evaluator of Kubernetes NetworkPolicy semantics over rendered manifests.

Enough of the spec to answer "may pod A open TCP port P on B?": pod and namespace selectors
(matchLabels, matchExpressions), ipBlock with except, numeric and named ports, endPort, default
policyTypes. A connection is allowed when every side that some policy isolates allows it.
Where the spec leaves it to the network plugin whether an ipBlock covers pod IPs, we assume it
does, which can only make a "denied" answer harder to reach.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Endpoint:
    """A pod (labels set) or an address outside the cluster (labels None)."""

    ip: str
    labels: dict[str, str] | None = None
    namespace: str = "nxhub"
    port_names: dict[int, str] = field(default_factory=dict)


def selects(selector: dict | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _in_block(ip: str, block: dict) -> bool:
    addr = ipaddress.ip_address(ip)
    net = ipaddress.ip_network(block["cidr"], strict=False)
    if addr.version != net.version or addr not in net:
        return False
    return not any(addr in ipaddress.ip_network(e, strict=False) for e in block.get("except") or [])


def _peer_matches(peer: dict, other: Endpoint, policy_ns: str) -> bool:
    if "ipBlock" in peer:
        return _in_block(other.ip, peer["ipBlock"])
    if other.labels is None:
        return False  # pod/namespace selectors never match addresses outside the cluster
    ns_sel = peer.get("namespaceSelector")
    if ns_sel is not None:
        if not selects(ns_sel, {"kubernetes.io/metadata.name": other.namespace}):
            return False
    elif other.namespace != policy_ns:
        return False
    pod_sel = peer.get("podSelector")
    return True if pod_sel is None else selects(pod_sel, other.labels)


def _port_matches(ports: list[dict] | None, port: int, target: Endpoint) -> bool:
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != "TCP":
            continue
        want = p.get("port")
        if want is None:
            return True
        if isinstance(want, str):
            if target.port_names.get(port) == want:
                return True
        elif want == port or (p.get("endPort") and want <= port <= p["endPort"]):
            return True
    return False


def _types(policy: dict) -> set[str]:
    spec = policy["spec"]
    return set(spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else [])))


def _side_allows(policies: list[dict], pod: Endpoint, other: Endpoint, port: int, direction: str, target: Endpoint) -> bool:
    """Ingress into or egress from `pod`: isolated pods need one rule that admits `other`."""
    if pod.labels is None:
        return True  # nothing outside the cluster is governed by these policies
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    relevant = [
        p for p in policies
        if p["metadata"].get("namespace", pod.namespace) == pod.namespace
        and direction in _types(p)
        and selects(p["spec"].get("podSelector") or {}, pod.labels)
    ]
    if not relevant:
        return True
    for policy in relevant:
        ns = policy["metadata"].get("namespace", pod.namespace)
        for rule in policy["spec"].get(key) or []:
            peers = rule.get(peers_key)
            peer_ok = not peers or any(_peer_matches(peer, other, ns) for peer in peers)
            if peer_ok and _port_matches(rule.get("ports"), port, target):
                return True
    return False


def allowed(docs: list[dict], src: Endpoint, dst: Endpoint, port: int) -> bool:
    """May `src` open TCP `port` on `dst` under the rendered NetworkPolicies?"""
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    return _side_allows(policies, src, dst, port, "Egress", dst) and _side_allows(policies, dst, src, port, "Ingress", dst)
