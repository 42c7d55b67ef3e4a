"""Page logic in-process against the real API (no browser): the admin statistics and the instrument dashboard."""

from __future__ import annotations

import httpx
import pytest

from nexuslims_kernel.catalog import open_catalog
from nexuslims_kernel.pages.context import PageContext, browser_api_base
from nexuslims_kernel.pages.instrument import InstrumentDashboard


def test_admin_stats_buckets_sessions_hours_and_files_per_week(stats_world):
    api, tokens = stats_world
    got = httpx.get(f"{api.base}/admin/stats", params={"weeks": 4}, headers={"Authorization": f"Bearer {tokens['root']}"}).json()
    assert got["weeks"] == ["2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16"]
    titan, quanta = got["instruments"]["titan"], got["instruments"]["quanta"]
    assert titan["sessions"] == [0, 1, 1, 1] and titan["hours"] == [0, 2, 4, 1] and quanta["sessions"] == [0, 1, 0, 0]
    assert titan["files"] == [0, 1, 1, 1] and titan["bytes"] == [0, 1000, 2000, 3000] and quanta["bytes"] == [0, 1000, 0, 0]
    assert got["status"] == {"COMPLETED": 2, "ERROR": 1, "NO_FILES": 1}
    assert [f["status"] for f in got["failed"]] == ["NO_FILES", "ERROR"]
    only = httpx.get(f"{api.base}/admin/stats", params={"instrument": "quanta"}, headers={"Authorization": f"Bearer {tokens['root']}"}).json()
    assert list(only["instruments"]) == ["quanta"] and only["failed"] == []
    for who in ("alice", None):
        headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
        assert httpx.get(f"{api.base}/admin/stats", headers=headers).status_code in (401, 403)


def test_dashboard_shows_charts_and_escaped_failures_to_admins_only(stats_world):
    pytest.importorskip("bqplot")
    api, tokens = stats_world
    admin = InstrumentDashboard(PageContext.create(open_catalog(api.base, tokens["root"]), query={}))
    assert len(admin.charts.children) == 4
    assert "&lt;b onmouseover=&quot;x()&quot;&gt;corrupt&lt;/b&gt; header" in admin.failed.value and "<b " not in admin.failed.value
    assert "ERROR · 1" in admin.status.value
    admin.instrument.value = "quanta"
    assert "No failed sessions" in admin.failed.value
    user = InstrumentDashboard(PageContext.create(open_catalog(api.base, tokens["alice"]), query={}))
    assert "for facility administrators" in user.widget.children[-1].value


def test_browser_api_base_in_the_hub_and_under_pages_serve():
    assert browser_api_base({"JUPYTERHUB_BASE_URL": "/hub-prefix/"}) == "/hub-prefix/services/nxhub-api/api/v1"
    assert browser_api_base({"NXHUB_PAGES_API_BASE": "/nxhub-api/api/v1/", "JUPYTERHUB_BASE_URL": "/"}) == "/nxhub-api/api/v1"
    assert browser_api_base({}, "http://127.0.0.1:9/api/v1") == "http://127.0.0.1:9/api/v1"


def test_static_cards_escape_text_and_refuse_script_links():
    from nexuslims_kernel.pages.widgets import cards_html

    html = cards_html([{"id": 7, "title": '<img src=x onerror="alert(1)">', "lines": ["a & b"], "tags": ["<b>"],
                        "src": "javascript:alert(1)", "href": "data:text/html,<script>"},
                       {"id": 8, "title": "ok", "src": "/api/v1/datasets/8/preview"}])
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "a &amp; b" in html and "&lt;b&gt;" in html
    assert "javascript:" not in html and "data:text" not in html
    assert html.count("<img ") == 1 and 'src="/api/v1/datasets/8/preview"' in html
    assert "Nothing to show" in cards_html([], empty_text="Nothing to show")
