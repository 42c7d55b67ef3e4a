"""``nxhub publish pending``: the site's configured CDCS and eLabFTW get every new record once (stand-ins on loopback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cdcs_standin import CdcsStandIn
from elabftw_standin import ElabStandIn
from interopkit import record_with_files

XSD = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "nexus-experiment.xsd"


def _pending(env, *args) -> dict:
    proc = subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", "--json", "publish", "pending", *args],
                          env=env, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return json.loads(proc.stdout)


def test_every_new_record_goes_to_each_target_once_and_an_outage_waits_for_the_next_run(db_url, env_for_cli, tmp_path):
    first = record_with_files(db_url, tmp_path / "s1", tmp_path / "data" / "previews")
    second = record_with_files(db_url, tmp_path / "s2", tmp_path / "data" / "previews", title="Second", instrument="Quanta",
                               user="bob")
    cdcs, elab = CdcsStandIn(xsd=XSD if XSD.is_file() else None), ElabStandIn()
    try:
        env = {**env_for_cli, "NXHUB_INTEROP_CDCS_URL": cdcs.url, "NXHUB_INTEROP_ELABFTW_URL": elab.url,
               "NXHUB_CDCS_TOKEN": cdcs.token, "NXHUB_ELABFTW_TOKEN": elab.api_key}
        cdcs.fail_posts = 99  # CDCS is down for this run
        run1 = _pending(env, "--retries", "0")
        assert run1["elabftw"]["published"] == [first, second] and run1["cdcs"]["published"] == []
        assert [f["record"] for f in run1["cdcs"]["failed"]] == [first, second] and cdcs.docs == {}
        cdcs.fail_posts = 0
        run2 = _pending(env)
        assert run2["cdcs"]["published"] == [first, second] and run2["elabftw"]["published"] == []
        run3 = _pending(env)
        assert run3["cdcs"]["published"] == run3["elabftw"]["published"] == []
        assert len(cdcs.docs) == 2 and len(elab.experiments) == 2  # each record exactly once in each
    finally:
        cdcs.stop()
        elab.stop()
