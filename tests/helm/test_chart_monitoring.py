"""The alert rules and Grafana dashboard shipped with the chart ask only for metrics /metrics exposes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
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
