"""write_record: header, activities with a common setup, datasets, access, atomic rebuild."""

from __future__ import annotations

import pytest
from conftest import add_session, result, synthetic_activities
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from nexuslims_kernel.db.models import Activity, Dataset, Group, InstrumentSession, Record
from nexuslims_kernel.records import DatasetInput, load_record, write_record


def _write(db, session_id, activities, warnings=(), tmp_path=None):
    with db.session(write=True) as sess:
        record = write_record(sess, sess.get(InstrumentSession, session_id), activities, list(warnings), previews_root=tmp_path)
        return record.id


def test_record_has_header_activities_setup_and_datasets(db, session_id, tmp_path):
    record_id = _write(db, session_id, synthetic_activities(2, 3), ["1 file unreadable"], tmp_path)
    with db.session() as sess:
        rec = load_record(sess, record_id)
    assert rec.title == "Grain boundaries in FePt"
    assert rec.header["experimenters"] == [{"username": "alice", "name": "Alice Ångström"}]
    assert rec.header["motivation"] == "Why not"
    assert [s["name"] for s in rec.header["samples"]] == ["FePt-01"]
    assert rec.header["instrument"]["timezone"] == "Europe/Berlin"
    assert rec.header["project"]["name"] == "p-1"
    assert rec.n_datasets == 6 and len(rec.datasets) == 6
    assert rec.warnings == ["1 file unreadable"]
    assert [a.seq for a in rec.activities] == [1, 2]
    first = rec.activities[0]
    # Shared values are the setup; magnification differs per image so it is not.
    assert first.setup == {"acceleration_voltage": {"value": 300, "unit": "kV"}, "microscope": "Titan"}
    assert first.start.isoformat() == "2026-03-02T09:00:00+00:00" and first.end.isoformat() == "2026-03-02T09:02:00+00:00"
    assert [d.relpath for d in first.datasets] == [f"2026/03/act0/img_{i}.tif" for i in range(3)]
    assert first.datasets[1].meta["magnification"] == 2000
    assert first.datasets[0].raw_metadata == {"vendor": {"x": 1}}
    # Access defaults: owner is the session's person, group is the project's group, private.
    with db.session() as sess:
        group = sess.get(Group, rec.group_id)
    assert rec.owner.username == "alice" and group.name == "second-group" and rec.is_public is False
    for word in ("FePt-01", "alice", "Alice Ångström", "Titan", "img_2.tif", "tiff", "Test-TEM"):
        assert word in rec.search_text


def test_default_title_and_group_without_project_or_reservation(db, tmp_path):
    session_id = add_session(db, with_project=False)
    record_id = _write(db, session_id, synthetic_activities(1, 1), tmp_path=tmp_path)
    with db.session() as sess:
        rec = load_record(sess, record_id)
        assert rec.title == "Test-TEM (Titan) session 2026-03-02 (alice)"
        assert rec.group is None  # no project, no group chosen: owner only, never a guess from memberships
        assert rec.header["project"] is None
        # A single dataset: everything but the per-acquisition keys is "setup".
        assert set(rec.activities[0].setup) == {"acceleration_voltage", "microscope", "magnification"}


def test_rebuild_keeps_id_and_access_and_replaces_children(db, session_id, tmp_path):
    record_id = _write(db, session_id, synthetic_activities(2, 3), tmp_path=tmp_path)
    with db.session(write=True) as sess:
        sess.get(Record, record_id).is_public = True  # an admin's change survives rebuilds
    again = _write(db, session_id, synthetic_activities(1, 2), tmp_path=tmp_path)
    assert again == record_id
    with db.session() as sess:
        rec = load_record(sess, record_id)
        assert rec.is_public is True
        assert rec.n_datasets == 2 and len(rec.activities) == 1
        assert sess.scalar(select(func.count()).select_from(Dataset)) == 2
        assert sess.scalar(select(func.count()).select_from(Activity)) == 1
        assert [d.relpath for d in rec.datasets] == ["2026/03/act0/img_0.tif", "2026/03/act0/img_1.tif"]
        assert sess.scalar(select(func.count()).select_from(Record)) == 1


def test_failure_mid_write_leaves_old_record_intact(db, session_id, tmp_path):
    record_id = _write(db, session_id, synthetic_activities(2, 3), tmp_path=tmp_path)
    bad = synthetic_activities(1, 2)
    bad[0][1].file_id = 999_999  # no such indexed file: the insert fails after the old rows were deleted
    with pytest.raises(IntegrityError):
        _write(db, session_id, bad, tmp_path=tmp_path)
    with db.session() as sess:
        rec = load_record(sess, record_id)
        assert rec.n_datasets == 6 and len(rec.datasets) == 6 and len(rec.activities) == 2
        assert rec.title == "Grain boundaries in FePt"


def test_untrusted_strings_are_stored_on_both_backends(db, tmp_path):
    nasty = "a\x00b <script>alert('x')</script> ]]> \ud800 ' OR 1=1 --"
    clean = "ab <script>alert('x')</script> ]]>  ' OR 1=1 --"
    # Reservations come from our own API (already valid text); file metadata may hold anything.
    session_id = add_session(db, reservation={"title": clean, "samples": [{"name": clean, "elements": "Fe, Pt"}]})
    acts = synthetic_activities(1, 1, detector=nasty, weird=float("nan"))
    acts[0].append(
        DatasetInput(relpath="bad\x00name.dm3", size=3, mtime=None, format="dm3", result=None, file_error="unreadable: " + nasty)
    )
    record_id = _write(db, session_id, acts, tmp_path=tmp_path)
    with db.session() as sess:
        rec = load_record(sess, record_id)
    assert rec.title == clean
    assert rec.header["samples"][0]["elements"] == ["Fe", "Pt"]
    broken = next(d for d in rec.datasets if d.error)
    assert broken.relpath == "badname.dm3" and broken.dataset_type == "Unknown" and broken.error == "unreadable: " + clean
    good = next(d for d in rec.datasets if not d.error)
    assert good.meta["detector"] == clean and good.meta["weird"] is None


def test_preview_paths_are_stored_relative_to_the_previews_root(db, session_id, tmp_path):
    acts = synthetic_activities(1, 2)
    acts[0][0].result.preview = str(tmp_path / "ab" / "cd.png")
    acts[0][1].result.preview = "/elsewhere/x.png"
    record_id = _write(db, session_id, acts, tmp_path=tmp_path)
    with db.session() as sess:
        rec = load_record(sess, record_id)
    assert [d.preview_path for d in rec.datasets] == ["ab/cd.png", None]


def test_dataset_type_outside_the_schema_list_becomes_unknown(db, session_id, tmp_path):
    acts = [[DatasetInput(relpath="x.bin", size=1, mtime=1.7e9, format="bin", result=result(dataset_type="Hologram"))]]
    record_id = _write(db, session_id, acts, tmp_path=tmp_path)
    with db.session() as sess:
        assert load_record(sess, record_id).datasets[0].dataset_type == "Unknown"
