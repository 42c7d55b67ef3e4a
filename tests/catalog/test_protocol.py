"""The catalog speaks one protocol: a Mapping of record id (str) to record, searches that chain, and
an Intake 2 snapshot that round-trips through YAML and reads back to the same signal."""

from __future__ import annotations

from collections.abc import Mapping

import intake
import pytest

from nexuslims_kernel.catalog import Record, open_catalog


def test_a_catalog_is_a_mapping_of_str_ids_to_the_records_you_may_see(catalog_world):
    w = catalog_world
    cat = open_catalog(w.api.base, w.tokens["alice"])
    mine, public, carols = (str(w.records[k]) for k in ("alice", "public", "carol"))
    assert isinstance(cat, Mapping)
    keys = list(cat)
    assert sorted(keys) == sorted([mine, public]) and all(type(k) is not int and isinstance(k, str) for k in keys)
    assert list(cat.keys()) == keys and len(cat) == 2
    records = list(cat.records())
    assert all(isinstance(r, Record) for r in records) and [str(r.id) for r in records] == keys
    assert [str(r.id) for r in cat.values()] == keys and [k for k, _ in cat.items()] == keys
    cases = [  # (key, in the catalog?)
        (mine, True), (public, True), (carols, False), ("999999", False), ("abc", False), ("", False), (None, False),
        ("-1", False), ("1.0", False),
    ]
    for key, present in cases:
        assert (key in cat) is present, key
        if present:
            assert cat[key].id == int(key)
        else:
            with pytest.raises(KeyError):
                cat[key]
    with pytest.raises(TypeError, match="mapping of record ids"):
        cat[0:2]
    assert cat.get(carols) is None and cat.get(mine).title == "Pt lamella tomography"


def test_searches_chain_and_stay_catalogs(catalog_world):
    w = catalog_world
    cat = open_catalog(w.api.base, w.tokens["alice"])
    narrowed = cat.search(owner="bob").search(since="2026-03-01")
    assert isinstance(narrowed, Mapping) and list(narrowed) == [str(w.records["public"])]
    assert narrowed.params == {"user": "bob", "from": "2026-03-01"}
    assert list(cat.search("lamella").search("tomography")) == [str(w.records["alice"])]
    assert list(cat.search("lamella").search("gold")) == []
    assert cat.search("lamella") == cat.search("lamella") and cat.search("lamella") != cat


def test_the_old_spellings_still_work_for_one_release_with_a_warning(catalog_world):
    w = catalog_world
    cat = open_catalog(w.api.base, w.tokens["alice"])
    with pytest.warns(DeprecationWarning, match="str keys now"):
        assert cat[w.records["alice"]].title == "Pt lamella tomography"
    assert w.records["alice"] in cat  # an int is looked up as its str
    with pytest.warns(DeprecationWarning, match="cat.records()"):
        titles = {rec.title for rec in cat}
    assert titles == {"Pt lamella tomography", "Open gold nanoparticles"}
    with pytest.warns(DeprecationWarning):
        assert {rec.id for rec in cat} == {w.records["alice"], w.records["public"]}


def test_an_intake_snapshot_round_trips_through_yaml_and_reads_the_same_signal(catalog_world, tmp_path, monkeypatch):
    w = catalog_world
    cat = open_catalog(w.api.base, w.tokens["alice"], stores={})
    snap = cat.search("lamella").to_intake()
    path = tmp_path / "lamella.yaml"
    snap.to_yaml_file(str(path))
    text = path.read_text()
    assert w.tokens["alice"] not in text  # descriptions only: whoever reads it uses their own token
    loaded = intake.from_yaml_file(str(path))
    record = cat[str(w.records["alice"])]
    names = [f"record_{record.id}_dataset_{d.id}" for d in record.datasets]
    entry = loaded[names[0]]
    assert entry.data.relpath == record.datasets[0].item["relpath"] and entry.metadata["record_title"] == record.title
    assert type(record.datasets[0].data.to_reader()).__name__ == "HyperSpyReader"  # Intake picks our reader by type
    monkeypatch.setenv("NXHUB_API_URL", w.api.base)
    monkeypatch.setenv("NXHUB_API_TOKEN", w.tokens["alice"])
    monkeypatch.setenv("NXHUB_CACHE_DIR", str(tmp_path / "cache"))
    signal = entry.read(lazy=False)
    assert signal.data.shape == record.datasets[0].read(lazy=False).data.shape
    first = next(cat.records())
    assert set(cat.to_intake(limit=1).entries) == {f"record_{first.id}_dataset_{d.id}" for d in first.datasets}
