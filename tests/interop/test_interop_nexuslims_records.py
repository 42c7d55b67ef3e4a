"""``nxhub import nexuslims --records DIR``: NexusLIMS record XML becomes the imported sessions' records,
linked to our indexed files by path; a document failing the XSD is listed and skipped; twice changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from nexuslims_1x import db_1x_from_published_schema
from nexuslims_xml import dataset, record
from sqlalchemy import select

from nexuslims_kernel.db import Database, upgrade
from nexuslims_kernel.db.models import IndexedFile, InstrumentSession, Record
from nexuslims_kernel.records import validation_errors

XSD = Path(__file__).resolve().parents[3] / "shared" / "schemas" / "nexus-experiment.xsd"
HELIOS = "FEI-Helios-DB-636663"
S1 = "6b9e0c1e-0000-4000-8000-000000000001"  # 2021-03-01 10:00-12:15 New York
S2 = "6b9e0c1e-0000-4000-8000-000000000002"  # 2021-07-01 09:00-10:00 New York
FILES = ["2021/03/01/img_1.tif", "2021/03/01/img_2.tif", "2021/03/01/eds.msa", "2021/07/01/overview.tif"]


def _nxhub(env, *args):
    return subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env, capture_output=True, timeout=300)


def _import(env, *args) -> dict:
    proc = _nxhub(env, "--json", "import", "nexuslims", *args)
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    return json.loads(proc.stdout)


def _site(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A 1.x database, its data root with the Helios files, and a folder of record XML (one invalid)."""
    source = db_1x_from_published_schema(tmp_path / "nexuslims_db.sqlite")
    data_root = tmp_path / "mmfnexus"
    for rel in FILES:
        (data_root / "Helios" / rel).parent.mkdir(parents=True, exist_ok=True)
        (data_root / "Helios" / rel).write_bytes(b"\x00" * 64)
        os.utime(data_root / "Helios" / rel, (1.6e9, 1.6e9))  # years old, as a migrating site's files are
    records = tmp_path / "records"
    records.mkdir()
    (records / "2021-03-01_Helios_0001.xml").write_bytes(record(
        "Lamella prep for FePt", S1, HELIOS, "2021-03-01T10:00:00-05:00", "2021-03-01T12:15:30-05:00", [
            ("2021-03-01T10:05:00-05:00", [dataset("img_1.tif", "/Helios/2021/03/01/img_1.tif", meta={"Magnification": ("5000", "x")}),
                                           dataset("img_2.tif", "/Helios/2021/03/01/img_2.tif")]),
            ("2021-03-01T11:00:00-05:00", [dataset("eds.msa", "/Helios/2021/03/01/eds.msa", dtype="Spectrum")]),
        ]))
    (records / "2021-07-01_Helios.xml").write_bytes(record(  # no <id>: matched by instrument and time
        "Overview images", None, HELIOS, "2021-07-01T09:00:00-04:00", "2021-07-01T10:00:00-04:00",
        [("2021-07-01T09:10:00-04:00", [dataset("overview.tif", "/Helios/2021/07/01/overview.tif")])]))
    bad = record("Broken", None, HELIOS, "2021-08-01T09:00:00-04:00", "2021-08-01T10:00:00-04:00",
                 [("2021-08-01T09:10:00-04:00", [dataset("x.tif", "/Helios/x.tif", dtype="NotAType")])])
    (records / "broken.xml").write_bytes(bad)
    return source, data_root, records


def test_record_xml_becomes_records_of_the_imported_sessions(db_url, env_for_cli, tmp_path):
    source, data_root, records = _site(tmp_path)
    env = {**env_for_cli, "NXHUB_XSD_PATH": str(XSD)}
    upgrade(Database(db_url))
    _import(env, "--db", str(source), "--data-root", str(data_root))  # instruments and sessions first
    index = _nxhub(env, "index", HELIOS)
    assert index.returncode == 0, index.stderr.decode()

    report = _import(env, "--db", str(source), "--data-root", str(data_root), "--records", str(records))
    assert report["records"] == {"imported": 2, "skipped": 1}
    [bad] = [s for s in report["skipped"] if s["item"].startswith("record ")]
    assert bad["item"] == "record broken.xml" and "not valid against the Nexus Experiment XSD" in bad["reason"]

    db = Database(db_url)
    try:
        with db.session() as sess:
            files = {f.relpath: f.id for f in sess.scalars(select(IndexedFile))}
            by_ext = {s.external_id: s for s in sess.scalars(select(InstrumentSession))}
            rec = sess.scalar(select(Record).where(Record.session_id == by_ext[S1].id))
            assert by_ext[S1].status == "COMPLETED" and rec.title == "Lamella prep for FePt"
            assert [len(a.datasets) for a in sorted(rec.activities, key=lambda a: a.seq)] == [2, 1]
            assert {d.relpath: d.file_id for d in rec.datasets} == {r: files[r] for r in FILES[:3]}  # linked by path
            mag = next(d for d in rec.datasets if d.relpath.endswith("img_1.tif")).meta["Magnification"]
            assert mag == {"value": "5000", "unit": "x"}
            other = sess.scalar(select(Record).where(Record.session_id == by_ext[S2].id))
            assert other.title == "Overview images" and [d.relpath for d in other.datasets] == [FILES[3]]
            rid = rec.id
    finally:
        db.dispose()

    xml = _nxhub(env, "export", str(rid))  # back out as Nexus XML: valid, every dataset kept
    assert xml.returncode == 0 and validation_errors(xml.stdout, XSD) == []
    assert all(f"<nx:location>{r}</nx:location>".encode() in xml.stdout for r in FILES[:3])

    again = _import(env, "--db", str(source), "--data-root", str(data_root), "--records", str(records))
    assert again["records"] == {"unchanged": 2, "skipped": 1} and again["sessions"] == {"unchanged": 2, "skipped": 3}
