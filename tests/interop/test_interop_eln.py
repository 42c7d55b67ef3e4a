"""``nxhub export ID --format eln``: an .eln archive that RO-Crate tools and ELN importers accept."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import requests
import rocrate
import urllib3
from interopkit import FILES, record_with_files
from rocrate.rocrate import ROCrate
from rocrate_validator import models, services
from sqlalchemy import select

# This machine has no internet: the validator's fetch of the RO-Crate JSON-LD context is answered from the copy
# the rocrate library ships (a stand-in for w3id.org; every other URL fails as offline).
CONTEXT_COPY = Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld"


class _ContextStandIn(requests.adapters.BaseAdapter):
    def send(self, request, **_kwargs):
        known = request.url.startswith("https://w3id.org/ro/crate/")
        raw = urllib3.HTTPResponse(body=io.BytesIO(CONTEXT_COPY.read_bytes() if known else b""), status=200 if known else 404,
                                   headers={"Content-Type": "application/ld+json"}, preload_content=False,
                                   request_url=request.url)
        return requests.adapters.HTTPAdapter().build_response(request, raw)

    def close(self):
        pass


@pytest.fixture
def context_cache(tmp_path) -> Path:
    """A requests-cache holding the stand-in's answer for the context URL; the validator runs offline on it."""
    from requests_cache import CachedSession

    name = tmp_path / "http-cache"
    with CachedSession(cache_name=str(name), backend="sqlite", allowable_codes=(200,)) as session:
        session.mount("https://", _ContextStandIn())
        for url in ("https://w3id.org/ro/crate/1.1/context",):
            session.get(url, headers={"Accept": "application/ld+json, application/json"}).raise_for_status()
    return name


def _export(env, *args):
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", "export", *args], env=env,
                          capture_output=True, timeout=120)


def _validate(folder: Path, cache: Path) -> list[str]:
    """roc-validator's REQUIRED-level issues against the RO-Crate 1.1 profile (empty: valid)."""
    settings = models.ValidationSettings(rocrate_uri=str(folder), profile_identifier="ro-crate-1.1",
                                         requirement_severity=models.Severity.REQUIRED, offline=True,
                                         cache_path=cache)
    result = services.validate(settings)
    return [f"{i.check.identifier}: {i.message}" for i in result.get_issues()]


def test_eln_export_holds_the_record_and_its_files_and_validates(db_url, env_for_cli, tmp_path, context_cache):
    store = tmp_path / "store"
    rid = record_with_files(db_url, store, tmp_path / "data" / "previews")
    out = tmp_path / f"record-{rid}.eln"
    proc = _export(env_for_cli, str(rid), "--format", "eln", "-o", str(out))
    assert proc.returncode == 0, proc.stderr.decode()

    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert {n.split("/", 1)[0] for n in names} == {f"record-{rid}"}  # exactly one folder at the root
        meta = json.loads(zf.read(f"record-{rid}/ro-crate-metadata.json"))
        zf.extractall(tmp_path / "unzipped")
    graph = {e["@id"]: e for e in meta["@graph"]}
    root = graph["./"]
    [exp] = [graph[p["@id"]] for p in root["hasPart"]]
    assert exp["@type"] == "Dataset" and exp["name"] == "Grain boundaries in FePt" and exp["@id"].endswith("/")
    assert graph["ro-crate-metadata.json"]["sdPublisher"] == {"@id": "#nexuslims-hub"}
    for rel, body in FILES.items():  # every data file of the record, byte for byte, inside the experiment folder
        ident = f"{exp['@id']}data/{rel}"
        assert {"@id": ident} in exp["hasPart"] and graph[ident]["contentSize"] == str(len(body))
        assert (tmp_path / "unzipped" / f"record-{rid}" / ident).read_bytes() == body
    assert f"record-{rid}/{exp['@id']}record.xml" in names

    folder = tmp_path / "unzipped" / f"record-{rid}"
    assert _validate(folder, context_cache) == []
    crate = ROCrate(folder)  # the rocrate library reads it back: same files, same experiment
    assert crate.root_dataset["name"] == "Grain boundaries in FePt"
    loaded = {e.id for e in crate.get_entities()}
    assert {f"{exp['@id']}data/{rel}" for rel in FILES} <= loaded and exp["@id"] in loaded


def test_eln_to_a_terminal_or_a_missing_record_is_one_line(db_url, env_for_cli, tmp_path):
    record_with_files(db_url, tmp_path / "store", tmp_path / "data" / "previews")
    missing = _export(env_for_cli, "999", "--format", "eln", "-o", str(tmp_path / "x.eln"))
    assert missing.returncode == 4 and missing.stderr.decode().strip() == "nxhub: error: record 999 does not exist"
    assert not (tmp_path / "x.eln").exists()


def test_every_demo_record_exports_as_a_valid_eln(db_url, env_for_cli, tmp_path, context_cache):
    from nexuslims_kernel.db import Database
    from nexuslims_kernel.db.models import Record
    from nexuslims_kernel.interop.eln import write_eln
    from nexuslims_kernel.records import load_record

    demo = subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", "--json", "demo"], env=env_for_cli,
                          capture_output=True, timeout=600)
    assert demo.returncode == 0, demo.stderr.decode()[-2000:]
    db = Database(db_url)
    try:
        with db.session() as sess:
            ids = list(sess.scalars(select(Record.id).order_by(Record.id)))
            assert len(ids) == 8
            for rid in ids:
                record = load_record(sess, rid)
                out = tmp_path / f"record-{rid}.eln"
                with out.open("wb") as fh:
                    write_eln(record, fh, previews_root=tmp_path / "data" / "previews",
                              store_root=record.instrument.filestore_root)
                with zipfile.ZipFile(out) as zf:
                    names = zf.namelist()
                    assert {n.split("/", 1)[0] for n in names} == {f"record-{rid}"}
                    zf.extractall(tmp_path / f"x{rid}")
                store = Path(record.instrument.filestore_root)
                for ds in record.datasets:  # every file of the record goes with it, and the thumbnails
                    assert not (store / ds.relpath).is_file() or any(n.endswith(f"/data/{ds.relpath}") for n in names)
                assert any("/previews/" in n for n in names) or not any(ds.preview_path for ds in record.datasets)
                assert _validate(tmp_path / f"x{rid}" / f"record-{rid}", context_cache) == [], rid
    finally:
        db.dispose()
