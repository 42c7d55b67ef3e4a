"""``nxhub export``: a real subprocess against each backend."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

from conftest import add_session, synthetic_activities

from nexuslims_kernel.db import Database, upgrade
from nexuslims_kernel.db.models import InstrumentSession
from nexuslims_kernel.records import validation_errors, write_record


def _nxhub(env, *args):
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env, capture_output=True, timeout=120)


def test_export_formats_and_errors(db_url, env_for_cli, tmp_path):
    db = Database(db_url)
    upgrade(db)
    session_id = add_session(db, reservation={"title": "Exported <b>record</b>"})
    with db.session(write=True) as sess:
        record_id = write_record(
            sess, sess.get(InstrumentSession, session_id), synthetic_activities(2, 2), [], previews_root=tmp_path
        ).id
    db.dispose()

    xml = _nxhub(env_for_cli, "export", str(record_id))
    assert xml.returncode == 0, xml.stderr
    assert validation_errors(xml.stdout) == [] and b"Exported &lt;b&gt;record&lt;/b&gt;" in xml.stdout

    js = _nxhub(env_for_cli, "export", str(record_id), "--format", "json")
    assert js.returncode == 0 and json.loads(js.stdout)["title"] == "Exported <b>record</b>"
    js = _nxhub(env_for_cli, "--json", "export", str(record_id), "--format", "json")  # --json keeps the document on stdout
    assert js.returncode == 0 and json.loads(js.stdout)["title"] == "Exported <b>record</b>"

    out = tmp_path / "crate.zip"
    crate = _nxhub(env_for_cli, "export", str(record_id), "-f", "rocrate", "-o", str(out))
    assert crate.returncode == 0, crate.stderr
    assert "ro-crate-metadata.json" in zipfile.ZipFile(out).namelist()
    assert not list(tmp_path.glob(".crate.zip.part"))

    missing = _nxhub(env_for_cli, "export", "999")
    assert missing.returncode == 4 and missing.stderr.decode().strip() == "nxhub: error: record 999 does not exist"
