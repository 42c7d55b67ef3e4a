"""JSON export and RO-Crate zip; the exporter registry."""

from __future__ import annotations

import io
import json
import os
import zipfile

import pytest
from conftest import add_session, synthetic_activities

from nexuslims_kernel.db.models import InstrumentSession
from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.records import EXPORTERS, get_exporter, load_record, to_json, write_record, write_rocrate

HOSTILE = "<script>alert(1)</script> ]]> \"q\" 'a' & \\ 😀"


def _record(db, tmp_path, *, previews=True, acts=None, **reservation):
    session_id = add_session(db, reservation={"title": "Crate", "samples": ["S1"], **reservation})
    acts = acts or synthetic_activities(2, 2, detector=HOSTILE)
    if previews:
        for n, item in enumerate(x for a in acts for x in a):
            png = tmp_path / "previews" / f"{n:02d}" / "p.png"
            png.parent.mkdir(parents=True, exist_ok=True)
            png.write_bytes(b"\x89PNG fake " + bytes([n]))
            item.result.preview = str(png)
    with db.session(write=True) as sess:
        rid = write_record(sess, sess.get(InstrumentSession, session_id), acts, ["w1"], previews_root=tmp_path / "previews").id
    with db.session() as sess:
        return load_record(sess, rid)


def test_json_is_complete_and_round_trips(db, tmp_path):
    rec = _record(db, tmp_path)
    data = to_json(rec)
    assert set(data) == {
        "schema",
        "id",
        "pid",
        "session_id",
        "title",
        "start",
        "end",
        "built_at",
        "updated_at",
        "instrument",
        "access",
        "header",
        "n_datasets",
        "warnings",
        "activities",
    }
    assert data["schema"] == "nxhub-record/1" and data["access"] == {
        "owner": "alice",
        "group": "second-group",
        "is_public": False,
        "embargo_until": None,
    }
    ds = data["activities"][0]["datasets"][0]
    assert set(ds) == {
        "id",
        "relpath",
        "signal_index",
        "name",
        "dataset_type",
        "format",
        "acquired_at",
        "file_size",
        "file_mtime",
        "shape",
        "dtype",
        "metadata",
        "unique_metadata",
        "raw_metadata",
        "preview",
        "companions",
        "warnings",
        "error",
        "sha256",  # added within nxhub-record/1 (additive): None until the build records it
        "glossary_terms",  # additive too: EM Glossary ids of the normalised fields
    }
    assert ds["glossary_terms"] == [{
        "@type": "PropertyValue", "name": "acceleration_voltage", "alternateName": "Acceleration Voltage",
        "propertyID": "https://purls.helmholtz-metadaten.de/emg/EMG_00000004", "value": 300, "unitText": "kV"}]
    assert ds["metadata"]["detector"] == HOSTILE and ds["unique_metadata"] == {
        "acquisition_time": ds["metadata"]["acquisition_time"],
        "acquisition_time_source": "file",
        "magnification": 1000,
    }
    buf = io.BytesIO()
    get_exporter("json").write(rec, buf)
    assert json.loads(buf.getvalue()) == data
    # Same bytes twice (stable order), and from the JSON form itself.
    again = io.BytesIO()
    get_exporter("json").write(json.loads(buf.getvalue()), again)
    assert again.getvalue() == buf.getvalue()


def test_rocrate_lists_root_files_and_previews_that_are_present(db, tmp_path):
    rec = _record(db, tmp_path)
    buf = io.BytesIO()
    write_rocrate(rec, buf, previews_root=tmp_path / "previews")
    zf = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    assert zf.testzip() is None
    names = set(zf.namelist())
    crate = json.loads(zf.read("ro-crate-metadata.json"))
    assert crate["@context"] == "https://w3id.org/ro/crate/1.1/context"
    graph = {e["@id"]: e for e in crate["@graph"]}
    assert graph["ro-crate-metadata.json"]["about"] == {"@id": "./"}
    assert graph["ro-crate-metadata.json"]["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.1"}
    root = graph["./"]
    assert root["@type"] == "Dataset" and root["name"] == "Crate" and root["identifier"] == f"nxhub-record-{rec.id}"
    parts = {p["@id"] for p in root["hasPart"]}
    assert parts == names - {"ro-crate-metadata.json"}  # hasPart is exactly what is in the zip
    previews = sorted(n for n in names if n.startswith("previews/"))
    assert len(previews) == 4 and zf.read(previews[0]).startswith(b"\x89PNG")
    files = [e for e in crate["@graph"] if e["@type"] == "File" and e["@id"].startswith("#dataset-")]
    assert len(files) == 4 and all(graph[f["thumbnail"]["@id"]] for f in files)
    assert {e["name"] for e in crate["@graph"] if e["@type"] == "Person"} == {"Alice Ångström"}
    assert any(e["@type"] == "IndividualProduct" and e["name"] == "Test-TEM (Titan)" for e in crate["@graph"])
    actions = [e for e in crate["@graph"] if e["@type"] == "CreateAction"]
    assert [len(a["result"]) for a in actions] == [2, 2]
    # Each dataset's glossary fields: a PropertyValue whose propertyID is the DefinedTerm's @id.
    term = graph["https://purls.helmholtz-metadaten.de/emg/EMG_00000004"]
    assert term["@type"] == "DefinedTerm" and term["termCode"] == "EMG_00000004"
    for f in files:
        (ref,) = f["variableMeasured"]
        value = graph[ref["@id"]]
        assert value["propertyID"] == term["@id"] and value["value"] == 300 and value["unitText"] == "kV"
    # The record inside the crate is the JSON export, hostile text intact.
    assert json.loads(zf.read("record.json")) == to_json(rec)
    assert b"&lt;script&gt;" in zf.read("record.xml")


def test_rocrate_with_data_streams_to_an_unseekable_sink_and_confines_paths(db, tmp_path):
    store = tmp_path / "store"
    acts = synthetic_activities(1, 2)
    for item in acts[0]:
        (store / item.relpath).parent.mkdir(parents=True, exist_ok=True)
        (store / item.relpath).write_bytes(os.urandom(3000))
    acts[0][0].companions = ["2026/03/act0/img_0.txt"]
    (store / "2026/03/act0/img_0.txt").write_text("companion")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, store / "2026/03/act0/link.tif")
    acts[0].append(
        type(acts[0][0])(relpath="2026/03/act0/link.tif", size=6, mtime=acts[0][0].mtime, format="tiff", result=acts[0][0].result)
    )
    acts[0].append(
        type(acts[0][0])(relpath="../secret.txt", size=6, mtime=acts[0][0].mtime, format="txt", result=acts[0][1].result)
    )
    rec = _record(db, tmp_path, previews=False, acts=acts)

    class Sink(io.RawIOBase):  # a socket-like sink: write only, no seek, no tell
        def __init__(self):
            self.chunks = []

        def writable(self):
            return True

        def write(self, b):
            self.chunks.append(bytes(b))
            return len(b)

    sink = Sink()
    get_exporter("rocrate").write(rec, sink, previews_root=tmp_path / "previews", include_data=True, store_root=store)
    zf = zipfile.ZipFile(io.BytesIO(b"".join(sink.chunks)))
    assert zf.testzip() is None
    names = set(zf.namelist())
    assert {"data/2026/03/act0/img_0.tif", "data/2026/03/act0/img_1.tif", "data/2026/03/act0/img_0.txt"} <= names
    assert zf.read("data/2026/03/act0/img_0.tif") == (store / "2026/03/act0/img_0.tif").read_bytes()
    assert not any("secret" in n or "link" in n for n in names)
    assert b"secret" not in b"".join(zf.read(n) for n in names if n.startswith("data/"))
    crate = json.loads(zf.read("ro-crate-metadata.json"))
    parts = {p["@id"] for e in crate["@graph"] if e["@id"] == "./" for p in e["hasPart"]}
    assert parts == names - {"ro-crate-metadata.json"}


def test_registry():
    assert set(EXPORTERS) == {"xml", "json", "rocrate", "eln"}  # eln: registered from nexuslims_kernel.interop
    assert (get_exporter("eln").media_type, get_exporter("eln").extension) == ("application/vnd.eln+zip", "eln")
    assert (get_exporter("xml").media_type, get_exporter("rocrate").extension) == ("application/xml", "zip")
    assert get_exporter("zip").name == "rocrate" and get_exporter("JSON").filename(3) == "record-3.json"
    with pytest.raises(InvalidInputError, match="unknown export format 'pdf'"):
        get_exporter("pdf")
