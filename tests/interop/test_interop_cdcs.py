"""``nxhub publish cdcs``: against a CDCS STAND-IN on loopback (not CDCS), once per record, through outages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cdcs_standin import CdcsStandIn
from interopkit import record_with_files

from nexuslims_kernel.records import validation_errors

XSD = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "nexus-experiment.xsd"


@pytest.fixture
def standin():
    servers = []

    def make() -> CdcsStandIn:
        servers.append(CdcsStandIn(xsd=XSD if XSD.is_file() else None))
        return servers[-1]

    yield make
    for s in servers:
        s.stop()


def _publish(env, rid, url, *args):
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", "--json", "publish", "cdcs", str(rid),
                           "--url", url, *args], env=env, capture_output=True, timeout=120)


def _ok(proc) -> dict:
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return json.loads(proc.stdout)


def test_publish_creates_one_document_then_updates_it(db_url, env_for_cli, tmp_path, standin):
    rid = record_with_files(db_url, tmp_path / "store", tmp_path / "data" / "previews")
    cdcs = standin()
    env = {**env_for_cli, "NXHUB_CDCS_TOKEN": cdcs.token}
    first = _ok(_publish(env, rid, cdcs.url, "--workspace", "Global Public Workspace"))
    assert first["action"] == "created" and first["url"] == f"{cdcs.url}data?id={first['cdcs_id']}"
    [doc] = cdcs.docs.values()
    assert doc["template"] == "tpl-7" and doc["title"] == "Grain boundaries in FePt" and doc["workspace"] == "ws-1"
    assert validation_errors(doc["xml_content"].encode()) == [] and doc["xml_content"].count("<nx:dataset") == 3

    again = _ok(_publish(env, rid, cdcs.url))
    assert again["action"] == "updated" and again["cdcs_id"] == first["cdcs_id"] and len(cdcs.docs) == 1
    assert cdcs.token not in (json.dumps(again) + str(cdcs.requests))  # the token is never echoed


def test_an_outage_is_retried_and_a_lost_answer_is_not_a_duplicate(db_url, env_for_cli, tmp_path, standin):
    rid = record_with_files(db_url, tmp_path / "store", tmp_path / "data" / "previews")
    flaky = standin()
    flaky.fail_posts = 2
    env = {**env_for_cli, "NX_CDCS_TOKEN": flaky.token}  # a NexusLIMS site's variable works too
    res = _ok(_publish(env, rid, flaky.url))
    assert res["action"] == "created" and len(flaky.docs) == 1
    assert [r for r in flaky.requests if r[0] == "POST"] == [("POST", "/rest/data/")] * 3

    lossy = standin()
    lossy.drop_posts = 1  # CDCS stores the document but the answer never arrives
    res = _ok(_publish({**env, "NX_CDCS_TOKEN": lossy.token}, rid, lossy.url))
    assert res["action"] == "adopted" and len(lossy.docs) == 1

    down = standin()
    down.fail_posts = 99
    proc = _publish({**env, "NX_CDCS_TOKEN": down.token}, rid, down.url, "--retries", "1")
    err = proc.stderr.decode().strip()
    assert proc.returncode == 69 and len(err.splitlines()) == 1 and "failed 2 times" in err and "HTTP 503" in err
    assert down.docs == {}


def test_bad_token_no_token_and_bad_bodies_are_refused(db_url, env_for_cli, tmp_path, standin):
    rid = record_with_files(db_url, tmp_path / "store", tmp_path / "data" / "previews")
    cdcs = standin()
    none = _publish(env_for_cli, rid, cdcs.url)
    assert none.returncode != 0 and "no CDCS token: set NXHUB_CDCS_TOKEN" in none.stderr.decode() and cdcs.requests == []
    wrong = _publish({**env_for_cli, "NXHUB_CDCS_TOKEN": "not-it"}, rid, cdcs.url)
    assert wrong.returncode == 69 and "refused the token (401)" in wrong.stderr.decode() and "not-it" not in wrong.stderr.decode()
    missing = _publish({**env_for_cli, "NXHUB_CDCS_TOKEN": cdcs.token}, 999, cdcs.url)
    assert missing.returncode == 4 and "record 999 does not exist" in missing.stderr.decode()

    auth = {"Authorization": f"Token {cdcs.token}"}  # the stand-in refuses what CDCS refuses
    with httpx.Client(base_url=cdcs.url, headers=auth) as c:
        assert c.post("rest/data/", content=b"{not json").status_code == 400
        assert c.post("rest/data/", json={"title": "x", "template": "tpl-7"}).json() == {"xml_content": ["This field is required."]}
        assert c.post("rest/data/", json={"title": "x", "template": "nope", "xml_content": "<a/>"}).status_code == 400
        assert c.post("rest/data/", json={"title": "x", "template": "tpl-7", "xml_content": "<a>"}).status_code == 400
    assert cdcs.docs == {}
