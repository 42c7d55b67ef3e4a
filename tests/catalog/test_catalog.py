"""The catalog against a real API on loopback: search, navigation, read(), the cache and who sees what."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile

import pytest
from catalogkit import EELS, EMI, SECRET, STEM

from nexuslims_kernel.catalog import CatalogError, FileCache, HyperSpyReader, NexusDataset, open_catalog


def _ids(cat) -> set[int]:
    return {r.id for r in cat.records()}


def test_search_is_narrowed_by_the_api_and_never_shows_anothers_private_record(catalog_world):
    w = catalog_world
    cat = open_catalog(w.api.base, w.tokens["alice"])
    assert _ids(cat) == {w.records["alice"], w.records["public"]} and len(cat) == 2
    assert _ids(cat.search("lamella")) == {w.records["alice"]}  # carol's "secret lamella" is not hers to find
    assert _ids(cat.search("secret")) == set()
    assert _ids(cat.search(dataset_type="Spectrum")) == {w.records["alice"]}
    assert _ids(cat.search(owner="bob")) == {w.records["public"]}
    assert _ids(cat.search(since="2026-03-04")) == {w.records["public"]}
    assert _ids(cat.search("lamella", instrument="nowhere")) == set()
    facets = cat.facets()
    assert facets["total"] == 2 and {f["value"] for f in facets["facets"]["owner"]} == {"alice", "bob"}
    with pytest.raises(TypeError, match="unknown search filter"):
        cat.search(colour="red")
    carol = open_catalog(w.api.base, w.tokens["carol"])
    assert _ids(carol.search("lamella")) == {w.records["carol"]}


def test_records_activities_and_datasets_page_lazily_with_exports_and_escaped_reprs(catalog_world, tmp_path):
    w = catalog_world
    cat = open_catalog(w.api.base, w.tokens["alice"], cache=FileCache(tmp_path / "cache"))
    rec = cat[str(w.records["alice"])]
    assert rec.title == "Pt lamella tomography" and rec.instrument == "titan"
    assert [len(a.datasets) for a in rec.activities] == [2, 1] and len(rec.datasets) == 3
    assert [d.item["relpath"] for d in rec.datasets] == [STEM, EMI, EELS]
    assert rec.activities[0].datasets[1].item["companions"]
    ds = rec.datasets[0]
    assert ds.metadata["beam_energy"] == {"value": 300, "units": "kV"} and ds.raw_metadata["Microscope"]["Name"] == "Titan"
    html = rec._repr_html_()
    assert "Pt lamella tomography" in html and html.count("data:image/png;base64,") == 3
    assert "<img" in ds._repr_html_() and "Dataset" in repr(ds)
    xml = rec.to_xml()
    assert xml.lstrip().startswith("<?xml") and "Pt lamella tomography" in xml
    crate = rec.to_rocrate(tmp_path / "crate.zip")
    assert "ro-crate-metadata.json" in zipfile.ZipFile(crate).namelist()


def test_read_streams_into_the_cache_once_then_reads_from_it(catalog_world, tmp_path):
    w = catalog_world
    cache = FileCache(tmp_path / "cache")
    cat = open_catalog(w.api.base, w.tokens["alice"], cache=cache, stores={})
    stem, emi, eels = cat[str(w.records["alice"])].datasets
    sig = stem.read()
    assert sig._lazy and sig.axes_manager.signal_dimension == 2 and sig.data.shape == (68, 68)
    image = emi.read(lazy=False)  # the .ser companion came along, or there would be no image
    assert image.data.shape == (64, 64) and not image._lazy
    spectrum = eels.read()
    assert spectrum.axes_manager.signal_dimension == 1 and spectrum.data.shape == (2048,)
    entry = cache.entry(stem.item["sha256"])
    assert hashlib.sha256(next(entry.rglob("*.dm3")).read_bytes()).hexdigest() == stem.item["sha256"]
    assert len(cache.entries()) == 3
    stem._ctx.client.stream = None  # a second read must not touch the network
    assert stem.read().data.shape == (68, 68)


def test_read_opens_a_mounted_store_in_place(catalog_world, tmp_path):
    w = catalog_world
    cache = FileCache(tmp_path / "cache")
    cat = open_catalog(w.api.base, w.tokens["alice"], cache=cache, stores={"titan": str(w.corpus)})
    ds = cat[str(w.records["alice"])].datasets[0]
    assert ds.data.local_path() == w.corpus / STEM
    assert ds.read().data.shape == (68, 68) and cache.entries() == []


def test_cache_is_bounded_least_recently_used_first(catalog_world, tmp_path):
    w = catalog_world
    stem_size = (w.corpus / STEM).stat().st_size
    cache = FileCache(tmp_path / "cache", max_bytes=stem_size + 1000)
    cat = open_catalog(w.api.base, w.tokens["alice"], cache=cache)
    stem, _, eels = cat[str(w.records["alice"])].datasets
    stem.read()
    eels.read()  # does not fit beside the STEM image: the older entry goes
    assert [e.name for _, _, e in cache.entries()] == [eels.item["sha256"]]
    assert cache.total_bytes() <= (w.corpus / EELS).stat().st_size


def test_two_processes_share_one_cache_entry(catalog_world, tmp_path):
    w = catalog_world
    code = (
        "import sys; from nexuslims_kernel.catalog import open_catalog, FileCache\n"
        "cat = open_catalog(sys.argv[1], sys.argv[2], cache=FileCache(sys.argv[3]), stores={})\n"
        "print(cat[sys.argv[4]].datasets[2].read(lazy=False).data.shape)\n"
    )
    args = [sys.executable, "-c", code, w.api.base, w.tokens["alice"], str(tmp_path / "cache"), str(w.records["alice"])]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert [o.strip() for o, _ in outs] == ["(2048,)", "(2048,)"]
    assert len(FileCache(tmp_path / "cache").entries()) == 1


def test_another_users_private_dataset_is_unreachable_by_id_and_by_read(catalog_world, tmp_path):
    w = catalog_world
    cache = FileCache(tmp_path / "cache")
    carol = open_catalog(w.api.base, w.tokens["carol"], cache=cache)
    secret = carol[str(w.records["carol"])].datasets[0]
    alice = open_catalog(w.api.base, w.tokens["alice"], cache=cache)
    with pytest.raises(KeyError):
        alice[str(w.records["carol"])]
    with pytest.raises(KeyError):
        alice.dataset(secret.id)
    assert w.records["carol"] not in alice
    stolen = NexusDataset(api=w.api.base, record_id=w.records["carol"], dataset_id=secret.id, relpath=SECRET)
    with pytest.raises(CatalogError, match="404"):
        HyperSpyReader(stolen).read(client=alice.client, cache=cache)
    assert cache.entries() == []
    anonymous = open_catalog(w.api.base, None)
    assert _ids(anonymous) == {w.records["public"]}


def test_reprs_escape_what_people_typed_and_the_package_exposes_open_catalog():
    import nexuslims_kernel
    from nexuslims_kernel.catalog import html

    assert nexuslims_kernel.open_catalog is open_catalog
    out = html.block('<img src=x onerror="alert(1)">', [("who", "<b>eve</b>")], [html.img(b"\x89PNG fake", '"><script>')])
    assert "<img src=x" not in out and "&lt;b&gt;eve&lt;/b&gt;" in out and "<script>" not in out
    assert html.img(b"GIF89a not an image we show", "x") == ""


def test_discovery_from_the_environment_and_a_clear_error_without_it():
    from nexuslims_kernel.catalog.client import discover

    assert discover(environ={"NXHUB_API_URL": "http://h:1/", "NXHUB_API_TOKEN": "t"}) == ("http://h:1/api/v1", "t")
    assert discover(environ={"NXHUB_API_URL": "http://h:1/services/nxhub-api/api/v1"})[0] == "http://h:1/services/nxhub-api/api/v1"
    with pytest.raises(CatalogError, match="NXHUB_API_URL"):
        discover(environ={})
