"""Monitoring in the chart: alert rules and a dashboard that ask only for exposed metrics; token Secret and ServiceMonitor."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from helmkit import containers, find, render, run_helm, scenario_args, template
from prometheus_client.parser import text_string_to_metric_families

from nexuslims_kernel.ops.metrics import ApiMetrics

FILES = Path(__file__).resolve().parents[2] / "helm" / "nexuslims-hub" / "files"
SUFFIXES = ("", "_total", "_bucket", "_count", "_sum", "_created")


def _names_in(expr: str) -> set[str]:
    return set(re.findall(r"\bnxhub_[a-z_]+", expr))


@pytest.fixture
def exposed(db, settings) -> set[str]:
    text = ApiMetrics(settings, db, [], "/").render().decode()
    return {f.name + s for f in text_string_to_metric_families(text) for s in SUFFIXES}


def _rules() -> list[dict]:
    return [r for g in yaml.safe_load((FILES / "prometheus-rules.yaml").read_text())["groups"] for r in g["rules"]]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_alert_rules_use_exposed_metrics(exposed: set[str]) -> None:
    rules = _rules()
    assert {r["alert"] for r in rules} >= {"NxhubBuildQueueStalled", "NxhubFixityFailure", "NxhubDiskAlmostFull", "NxhubApiDown"}
    for rule in rules:
        assert rule["annotations"]["summary"] and rule["labels"]["severity"] in ("warning", "critical")
        assert _names_in(rule["expr"]) <= exposed, rule["alert"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_dashboard_queries_use_exposed_metrics(exposed: set[str]) -> None:
    dashboard = json.loads((FILES / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert exprs and all(_names_in(e) and _names_in(e) <= exposed for e in exprs)


MONITORING = ["--set", "metrics.enabled=true", "--set", "metrics.serviceMonitor.enabled=true",
              "--set", "metrics.prometheusRule.enabled=true", "--set", "metrics.serviceMonitor.labels.release=prom"]


def _rendered(extra: list[str]) -> list[dict]:
    result = template(scenario_args("default") + extra)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def test_metrics_values_wire_the_token_secret_to_the_api_and_the_service_monitor() -> None:
    docs = _rendered(MONITORING)
    secret = find(docs, "Secret", "nxhub-metrics")
    assert len(secret["stringData"]["metrics-token"]) >= 16
    (api,) = [c for c in containers(find(docs, "Deployment", "nxhub-api")) if c["name"] == "api"]
    env = {e["name"]: e for e in api["env"]}
    assert env["NXHUB_OPS_METRICS_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "nxhub-metrics", "key": "metrics-token"}
    monitor = find(docs, "ServiceMonitor", "nxhub-api")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/services/nxhub-api/metrics" and endpoint["port"] == "http"
    assert endpoint["authorization"]["credentials"] == {"name": "nxhub-metrics", "key": "metrics-token"}
    assert monitor["metadata"]["labels"]["release"] == "prom"
    assert monitor["spec"]["selector"]["matchLabels"] == find(docs, "Service", "nxhub-api")["spec"]["selector"]
    rules = find(docs, "PrometheusRule", "nxhub-alerts")["spec"]
    assert rules == yaml.safe_load((FILES / "prometheus-rules.yaml").read_text())
    policy = find(docs, "NetworkPolicy", "nxhub-api")
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}} in policy["spec"]["ingress"][-1]["from"]


def test_an_existing_token_secret_is_used_and_none_is_made() -> None:
    docs = _rendered(["--set", "metrics.enabled=true", "--set", "metrics.existingSecret=my-metrics"])
    assert not [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == "nxhub-metrics"]
    assert not [d for d in docs if d["kind"] in ("ServiceMonitor", "PrometheusRule")]  # each behind its own value
    (api,) = [c for c in containers(find(docs, "Deployment", "nxhub-api")) if c["name"] == "api"]
    assert {e["name"]: e for e in api["env"]}["NXHUB_OPS_METRICS_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "my-metrics"


def test_metrics_are_off_by_default_and_lint_clean_when_on() -> None:
    assert not [d for d in render("default") if d["kind"] in ("ServiceMonitor", "PrometheusRule")
                or d["metadata"]["name"] == "nxhub-metrics"]
    result = run_helm("lint", ".", "--strict", *scenario_args("default"), *MONITORING)
    assert result.returncode == 0, result.stdout + result.stderr
