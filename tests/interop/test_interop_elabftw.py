"""``nxhub publish elabftw``: against an eLabFTW STAND-IN on loopback (not eLabFTW), API v2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile

import httpx
import pytest
from elabftw_standin import ElabStandIn
from interopkit import FILES, record_with_files


@pytest.fixture
def elab():
    server = ElabStandIn()
    yield server
    server.stop()


def _publish(env, rid, url, *args):
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", "--json", "publish", "elabftw", str(rid),
                           "--url", url, *args], env=env, capture_output=True, timeout=120)


def _ok(proc) -> dict:
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return json.loads(proc.stdout)


def test_one_experiment_per_record_with_its_eln_replaced_on_republish(db_url, env_for_cli, tmp_path, elab):
    rid = record_with_files(db_url, tmp_path / "store", tmp_path / "data" / "previews")
    env = {**env_for_cli, "NXHUB_ELABFTW_TOKEN": elab.api_key}
    elab.fail_creates = 1  # an outage first: retried, one experiment in the end
    first = _ok(_publish(env, rid, elab.url, "--include-data"))
    assert first["action"] == "created" and first["upload"] == "attached" and len(elab.experiments) == 1
    [exp] = elab.experiments.values()
    assert exp["title"] == "Grain boundaries in FePt" and f"NexusLIMS Hub record {rid}" in exp["body"]
    assert exp["tags"] == "NexusLIMS|Titan-TEM"
    [upload] = elab.uploads[str(exp["id"])].values()
    assert upload["real_name"] == f"record-{rid}.eln"
    with zipfile.ZipFile(io.BytesIO(upload["data"])) as zf:  # the .eln itself, data files and all
        assert {n.split("/", 1)[0] for n in zf.namelist()} == {f"record-{rid}"}
        assert sum(n.endswith(tuple(FILES)) for n in zf.namelist()) == len(FILES)

    again = _ok(_publish({**env_for_cli, "NX_ELABFTW_API_KEY": elab.api_key}, rid, elab.url))
    assert again["action"] == "updated" and again["upload"] == "replaced" and again["experiment_id"] == first["experiment_id"]
    assert len(elab.experiments) == 1 and len(elab.uploads[str(exp["id"])]) == 1

    elab.experiments.clear()  # deleted in eLabFTW: the next publish makes it again instead of failing
    elab.uploads.clear()
    third = _ok(_publish(env, rid, elab.url))
    assert third["action"] == "created" and len(elab.experiments) == 1


def test_a_forgotten_experiment_is_found_again_and_bad_input_is_refused(db_url, env_for_cli, tmp_path, elab):
    rid = record_with_files(db_url, tmp_path / "store", tmp_path / "data" / "previews")
    key = elab.api_key
    with httpx.Client(base_url=elab.url, headers={"Authorization": key}) as c:  # what a lost create left behind
        made = c.post("api/v2/experiments", json={"title": "x", "body": f"<p>NexusLIMS Hub record {rid}: …</p>"})
        assert made.status_code == 201 and made.headers["Location"].endswith("/api/v2/experiments/1")
        assert c.post("api/v2/experiments", json={"title": 5}).status_code == 400  # the stand-in refuses what eLabFTW does
        assert c.post("api/v2/experiments", content=b"{oops").status_code == 400
        assert c.post("api/v2/experiments/1/uploads", data={"comment": "no file"}).status_code == 400
        assert c.patch("api/v2/experiments/99", json={"title": "y"}).status_code == 404
    adopted = _ok(_publish({**env_for_cli, "NXHUB_ELABFTW_TOKEN": key}, rid, elab.url))
    assert adopted["action"] == "adopted" and adopted["experiment_id"] == "1" and len(elab.experiments) == 1

    wrong = _publish({**env_for_cli, "NXHUB_ELABFTW_TOKEN": "nope"}, rid, elab.url)
    err = wrong.stderr.decode()
    assert wrong.returncode == 69 and "refused the token (401)" in err and "nope" not in err
    none = _publish(env_for_cli, rid, elab.url)
    assert none.returncode != 0 and "no eLabFTW API key" in none.stderr.decode()
