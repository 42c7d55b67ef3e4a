"""Nexus Experiment XML: valid against the XSD for real and hostile inputs; values survive as data."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import T0, add_session, inputs_from_files, synthetic_activities, write_em_files
from lxml import etree

from nexuslims_kernel.db.models import InstrumentSession
from nexuslims_kernel.records import load_record, to_json, to_xml, validation_errors, write_record
from nexuslims_kernel.records.schema import NS

N = {"nx": NS}
HOSTILE = [
    "<script>alert('x')</script>",
    "]]><evil/><![CDATA[",
    "&amp; &lt; &#0; &xxe;",
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    "tab\tnew\nline  spaces",
    "ctrl\x01\x02\x1b\x7f chars\ufffe",
    "Ünïcödé 電子顕微鏡 😀 Å",
    '" onload="alert(1)',
    "",
]


def _build(db, session_id, activities, warnings=(), previews_root=None):
    with db.session(write=True) as sess:
        rid = write_record(
            sess, sess.get(InstrumentSession, session_id), activities, list(warnings), previews_root=previews_root
        ).id
    with db.session() as sess:
        return load_record(sess, rid)


def _assert_valid(xml: bytes) -> etree._Element:
    assert validation_errors(xml) == []
    return etree.fromstring(xml)


def _expected(text: str) -> str:
    return "".join(c for c in text if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"))


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_strings_validate_and_come_back_as_data(db, tmp_path, hostile):
    reservation = {
        "title": f"T {hostile}",
        "motivation": hostile,
        "url": hostile,
        "samples": [{"name": hostile, "description": hostile, "elements": ["Fe", hostile]}],
        "experimenters": [{"username": "bob", "name": f"Bob {hostile}"}],
    }
    session_id = add_session(db, reservation=reservation, note=hostile or None)
    acts = synthetic_activities(2, 2, detector=hostile, **{f"key {hostile}": hostile})
    rec = _build(db, session_id, acts, [hostile or "w"], tmp_path)
    root = _assert_valid(to_xml(rec))
    assert root.findtext("nx:title", namespaces=N) == _expected(f"T {hostile}").strip()
    assert root.find("nx:sample/nx:name", N) is None or root.findtext("nx:sample/nx:name", namespaces=N) == _expected(hostile)
    assert [e.text for e in root.findall("nx:summary/nx:experimenter", N)] == ["Alice Ångström", _expected(f"Bob {hostile}")]
    # The hostile value is a param value (in the setup: all datasets share it), never markup.
    if hostile:
        setup = {p.get("name"): p.text for p in root.findall("nx:acquisitionActivity[1]/nx:setup/nx:param", N)}
        assert setup["detector"] == _expected(hostile)
    assert root.find(".//evil") is None and root.find(".//script") is None and root.find(".//nx:evil", N) is None
    assert len(root.findall(".//nx:dataset", N)) == 4
    assert [el.get("seqno") for el in root.findall("nx:acquisitionActivity", N)] == ["1", "2"]
    assert root.find("nx:summary", N).get("ref") is None  # not a URL: left out, never breaks anyURI


def test_element_order_and_required_parts(db, session_id, tmp_path):
    rec = _build(db, session_id, synthetic_activities(2, 3), ["late file"], tmp_path)
    root = _assert_valid(to_xml(rec))
    assert root.get("pid") == f"nxhub-record-{rec.id}"
    tags = [etree.QName(el).localname for el in root]
    assert tags == ["title", "id", "summary", "sample", "project", "acquisitionActivity", "acquisitionActivity", "notes"]
    summary = [etree.QName(el).localname for el in root.find("nx:summary", N)]
    assert summary == ["experimenter", "instrument", "reservationStart", "reservationEnd", "motivation"]
    assert root.find("nx:summary/nx:instrument", N).get("pid") == "Test-TEM"
    first = root.find("nx:acquisitionActivity", N)
    assert [p.get("name") for p in first.findall("nx:setup/nx:param", N)] == ["acceleration_voltage", "microscope"]
    assert first.find("nx:setup/nx:param[@name='acceleration_voltage']", N).get("unit") == "kV"
    ds = first.find("nx:dataset", N)
    assert ds.get("type") == "Image" and ds.findtext("nx:location", namespaces=N) == "2026/03/act0/img_0.tif"
    assert ds.find("nx:meta[@name='magnification']", N).text == "1000"
    assert root.find("nx:notes/nx:entry/nx:p", N).text == "late file"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Files written by rosettasciio and their extraction results (once for both backends)."""
    tmp = tmp_path_factory.mktemp("written")
    store, previews = tmp / "store", tmp / "previews"
    return inputs_from_files(write_em_files(store), store, previews), previews


@pytest.fixture(scope="module")
def corpus_inputs(corpus_dir, tmp_path_factory):
    """One small file per corpus format, extracted once for both backends."""
    with open(corpus_dir / "MANIFEST.tsv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if r["loads_ok"] == "yes" and int(r["size_bytes"]) < 1_500_000]
    by_format: dict[str, Path] = {}
    for row in rows:
        by_format.setdefault(row["format"], corpus_dir / row["relpath"])
    previews = tmp_path_factory.mktemp("corpus-previews")
    return inputs_from_files(sorted(by_format.values())[:14], corpus_dir, previews), previews


def test_xml_of_rosettasciio_written_files(db, written):
    inputs, previews = written
    first = [i for i in inputs if i.acquired_at() and i.acquired_at() < T0 + dt.timedelta(minutes=30)]
    rest = [i for i in inputs if i not in first]
    session_id = add_session(db)
    rec = _build(db, session_id, [first, rest], [], previews)
    root = _assert_valid(to_xml(rec))
    assert len(root.findall("nx:acquisitionActivity", N)) == 2
    assert len(root.findall(".//nx:dataset", N)) == len(inputs) == 7
    types = sorted(el.get("type") for el in root.findall(".//nx:dataset", N))
    assert types == ["Image", "Image", "Image", "Image", "Spectrum", "SpectrumImage", "Unknown"]
    broken = root.find(".//nx:dataset[nx:location='broken.dm3']", N)
    assert broken.findtext("nx:description", namespaces=N).startswith("Error: ")
    previews_listed = [el.text for el in root.findall(".//nx:preview", N)]
    assert len(previews_listed) == 6 and all((previews / p).is_file() for p in previews_listed)
    assert "Titan <b>&amp;</b> ]]>" in {p.text for p in root.iter(f"{{{NS}}}param")} | {
        p.text for p in root.iter(f"{{{NS}}}meta")
    }


@pytest.mark.corpus
def test_xml_of_corpus_files(db, corpus_inputs):
    inputs, previews = corpus_inputs
    assert len({i.format for i in inputs}) >= 10
    half = len(inputs) // 2
    rec = _build(db, add_session(db), [inputs[:half], inputs[half:]], [], previews)
    root = _assert_valid(to_xml(rec))
    assert len(root.findall(".//nx:dataset", N)) == len(inputs) == rec.n_datasets
    assert len(root.findall("nx:acquisitionActivity", N)) == 2


def test_xml_from_the_json_form_is_identical(db, session_id, tmp_path):
    rec = _build(db, session_id, synthetic_activities(2, 2), [], tmp_path)

    assert to_xml(json.loads(json.dumps(to_json(rec)))) == to_xml(rec)


@pytest.mark.parametrize(
    "url", ["http://a/<script>", 'https://x/"q"', "http://h/%zz", "http://[::1", "http://a/éè{x}|^`\\", "javascript:alert(1)"]
)
def test_reservation_links_are_valid_uris_or_left_out(url):
    data = {
        "id": 1,
        "pid": "nxhub-record-1",
        "title": "t",
        "instrument": {"name": "i"},
        "activities": [],
        "header": {"reservation": {"ref": url}, "project": {"name": "p", "ref": url}},
    }
    root = _assert_valid(to_xml(data))
    ref = root.find("nx:summary", N).get("ref")
    assert ref == root.findtext("nx:project/nx:ref", namespaces=N)
    malformed = url.startswith("javascript") or "[" in url
    assert ref is None if malformed else ref.startswith(url[:8])
    assert ref is None or not any(c in ref for c in '<>"{}|\\^` ')
