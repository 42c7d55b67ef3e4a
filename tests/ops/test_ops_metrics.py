"""/metrics: Prometheus text that parses, counters that move with the work done, and a token to read it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import sys
import time

import httpx
import pytest
from opskit import T0, ApiServer, add_sessions, add_store, built_hub, write_tiffs
from prometheus_client.parser import text_string_to_metric_families

from nexuslims_kernel.db.api_tokens import create_api_token
from nexuslims_kernel.ops.fixity import run_audit

TOKEN = "metrics-token-for-tests"


def _with_token(settings, token: str):
    return dataclasses.replace(settings, ops=dataclasses.replace(settings.ops, metrics_token=token))


def scrape(server: ApiServer, token: str | None = TOKEN) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape, parsed by prometheus_client's own parser."""
    url = server.base.removesuffix("/api/v1") + "/metrics"
    resp = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_counters_move_with_the_work_done(db, settings, tmp_path, pool) -> None:
    from nexuslims_kernel.builder import build_session

    _sid, paths = built_hub(db, settings, tmp_path / "store", pool, n=2)
    with db.session(write=True) as sess:
        alice = create_api_token(sess, "alice", "metrics test")
    server = ApiServer(_with_token(settings, TOKEN), db)
    try:
        before = scrape(server)
        me = ("nxhub_http_requests_total", (("method", "GET"), ("route", "/api/v1/me"), ("status", "200")))
        for _ in range(3):
            assert httpx.get(f"{server.base}/me", headers={"Authorization": f"Bearer {alice}"}).status_code == 200
        assert httpx.get(f"{server.base}/no/such/thing").status_code == 404
        (queued,) = add_sessions(db, add_store(db, tmp_path / "store"), [T0 + dt.timedelta(hours=3)])
        write_tiffs(tmp_path / "store" / "later", 1, minute0=200)
        data = bytearray(paths[0].read_bytes())
        data[-5] ^= 1
        st = paths[0].stat()
        paths[0].write_bytes(bytes(data))
        os.utime(paths[0], ns=(st.st_atime_ns, st.st_mtime_ns))
        assert len(run_audit(db, settings, share=1.0).failed) == 1

        mid = scrape(server)
        assert mid.get(me, 0) - before.get(me, 0) == 3
        lat = ("nxhub_http_request_duration_seconds_count", (("method", "GET"), ("route", "/api/v1/me")))
        assert mid[lat] - before.get(lat, 0) == 3
        assert mid[("nxhub_http_requests_total", (("method", "GET"), ("route", "(unmatched)"), ("status", "404")))] >= 1
        assert mid[("nxhub_build_queue_depth", ())] == 1
        assert mid[("nxhub_build_queue_oldest_age_seconds", ())] >= 0
        assert mid[("nxhub_fixity_failures", ())] == 1
        assert mid[("nxhub_fixity_checks_total", (("outcome", "mismatch"),))] == 1
        assert mid[("nxhub_disk_free_bytes", (("folder", "data_dir"),))] > 0
        assert mid[("nxhub_store_up", (("store", "Titan"),))] == 1
        assert mid[("nxhub_builds_paused", ())] == 0
        assert mid[("nxhub_store_disk_free_bytes", (("store", "Titan"),))] > 0
        done = ("nxhub_builds_total", (("outcome", "COMPLETED"),))
        assert mid[done] == 1

        assert build_session(db, queued, settings, pool=pool).status == "COMPLETED"
        after = scrape(server)
        assert after[done] == 2 and after[("nxhub_build_queue_depth", ())] == 0
        (tmp_path / "store").rename(tmp_path / "unmounted")  # the share goes away
        assert scrape(server)[("nxhub_store_up", (("store", "Titan"),))] == 0
    finally:
        server.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_metrics_need_the_token(db, settings) -> None:
    server = ApiServer(_with_token(settings, TOKEN), db)
    off = ApiServer(_with_token(settings, ""), db)
    try:
        url = server.base.removesuffix("/api/v1") + "/metrics"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert httpx.get(url, headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
        with db.session(write=True) as sess:
            from nexuslims_kernel.db.directory import add_person

            add_person(sess, "root", is_admin=True)
            admin = create_api_token(sess, "root", "not a metrics token")
        assert httpx.get(url, headers={"Authorization": f"Bearer {admin}"}).status_code == 403
        off_url = off.base.removesuffix("/api/v1") + "/metrics"
        resp = httpx.get(off_url, headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status_code == 403 and "metrics_token" in resp.text
        assert scrape(server)  # and with it, it answers
    finally:
        server.stop()
        off.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_forked_api_processes_report_one_sum(db, env_for_cli) -> None:
    """`nxhub api serve --processes 2`: whichever process answers the scrape, it counts every process's requests."""
    import socket
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    from nexuslims_kernel.db.directory import add_person

    with db.session(write=True) as sess:
        add_person(sess, "alice")
        token = create_api_token(sess, "alice", "test")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**env_for_cli, "NXHUB_OPS_METRICS_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "nexuslims_kernel.cli.main", "api", "serve", "--port", str(port),
                             "--processes", "2"], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

        def fetch(_: int) -> int:
            with httpx.Client(timeout=10) as client:  # a new connection each: the kernel spreads them over both
                return client.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(fetch, range(100))) == {200}
        key = ("nxhub_http_requests_total", (("method", "GET"), ("route", "/api/v1/me"), ("status", "200")))
        seen = set()
        for _ in range(6):
            with httpx.Client(timeout=10) as client:
                text = client.get(f"{base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
            samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                       for f in text_string_to_metric_families(text) for s in f.samples}
            seen.add(samples[key])
        assert seen == {101.0}  # the readiness probe plus the 100
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_config_never_shows_the_metrics_token(env_for_cli, monkeypatch, capsys) -> None:
    from opskit import run_cli

    code, out, err = run_cli(monkeypatch, capsys, {**env_for_cli, "NXHUB_OPS_METRICS_TOKEN": TOKEN}, "--json", "config")
    assert code == 0, err
    assert TOKEN not in out
    row = next(r for r in json.loads(out) if r["setting"] == "ops.metrics_token")
    assert row["value"] == "***"


def test_a_short_metrics_token_is_refused_without_showing_it() -> None:
    from nexuslims_kernel.config import load_settings
    from nexuslims_kernel.errors import ConfigError

    with pytest.raises(ConfigError, match="ops.metrics_token is shorter than 16") as err:
        load_settings(environ={"NXHUB_OPS_METRICS_TOKEN": "short"})
    assert "short" not in str(err.value).replace("shorter", "")
    assert TOKEN not in repr(load_settings(environ={"NXHUB_OPS_METRICS_TOKEN": TOKEN}))  # tracebacks print settings
