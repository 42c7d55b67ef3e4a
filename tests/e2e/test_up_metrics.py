"""Metrics of a running local hub: one token scrapes the API's /metrics and JupyterHub's /hub/metrics through the proxy."""

from __future__ import annotations

import httpx
from hubkit import UpProcess
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "e2e-metrics-token-0123456789"


def _families(text: str) -> set[str]:
    return {f.name for f in text_string_to_metric_families(text)}


def test_one_token_scrapes_the_api_and_the_hub(tmp_path) -> None:
    up = UpProcess(tmp_path, extra_env={"NXHUB_OPS_METRICS_TOKEN": TOKEN})
    try:
        up.wait_for(r"Ctrl-C stops everything")
        auth = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=up.base, timeout=60) as client:
            api = client.get("/services/nxhub-api/metrics", headers=auth)
            assert api.status_code == 200, api.text
            assert {"nxhub_http_requests", "nxhub_build_queue_depth", "nxhub_builds"} <= _families(api.text)
            hub = client.get("/hub/metrics", headers=auth)
            assert hub.status_code == 200, hub.text
            assert any(name.startswith("jupyterhub_") for name in _families(hub.text))
            assert client.get("/services/nxhub-api/metrics").status_code == 401
            assert client.get("/services/nxhub-api/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code == 403
            assert client.get("/hub/metrics", headers={"Authorization": "Bearer wrong-token"}).status_code in (401, 403)
    finally:
        code, leftovers = up.stop()
    assert leftovers == []
