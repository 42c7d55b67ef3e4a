"""Which group a new record goes to, and dataset ids that survive rebuilds."""

from __future__ import annotations

from conftest import add_session, synthetic_activities
from sqlalchemy import select

from nexuslims_kernel.db.models import Dataset, Group, InstrumentSession, Project, Record
from nexuslims_kernel.records import load_record, write_record


def _write(db, session_id, activities, tmp_path):
    with db.session(write=True) as sess:
        return write_record(sess, sess.get(InstrumentSession, session_id), activities, [], previews_root=tmp_path).id


def _group_of(db, record_id):
    with db.session() as sess:
        rec = sess.get(Record, record_id)
        return rec.group.name if rec.group else None


def test_a_user_in_two_labs_without_project_gets_an_owner_only_record(db, tmp_path):
    sid = add_session(db, with_project=False)  # alice is in first-group and second-group
    assert _group_of(db, _write(db, sid, synthetic_activities(1, 1), tmp_path)) is None


def test_the_sessions_own_group_is_used_when_the_project_names_none(db, tmp_path):
    sid = add_session(db, with_project=False)
    with db.session(write=True) as sess:
        sess.get(InstrumentSession, sid).group_id = sess.scalar(select(Group.id).where(Group.name == "second-group"))
    assert _group_of(db, _write(db, sid, synthetic_activities(1, 1), tmp_path)) == "second-group"


def test_the_projects_group_wins_over_the_sessions_choice(db, tmp_path):
    sid = add_session(db)  # project p-1 belongs to second-group
    with db.session(write=True) as sess:
        sess.get(InstrumentSession, sid).group_id = sess.scalar(select(Group.id).where(Group.name == "first-group"))
        assert sess.scalar(select(Project.group_id).where(Project.name == "p-1")) is not None
    assert _group_of(db, _write(db, sid, synthetic_activities(1, 1), tmp_path)) == "second-group"


def test_dataset_ids_stay_the_same_across_rebuilds_for_the_same_file_and_signal(db, session_id, tmp_path):
    record_id = _write(db, session_id, synthetic_activities(2, 3), tmp_path)
    with db.session() as sess:
        first = {(d.relpath, d.signal_index): d.id for d in load_record(sess, record_id).datasets}
    assert len(first) == 6
    assert _write(db, session_id, synthetic_activities(2, 3), tmp_path) == record_id
    with db.session() as sess:
        again = {(d.relpath, d.signal_index): d.id for d in load_record(sess, record_id).datasets}
    assert again == first
    # One burst gone, another file added: the ids of the files that stayed do not move.
    fewer = synthetic_activities(1, 4)
    _write(db, session_id, fewer, tmp_path)
    with db.session() as sess:
        rec = load_record(sess, record_id)
        now = {(d.relpath, d.signal_index): d.id for d in rec.datasets}
        assert len(rec.activities) == 1 and all(d.activity_id == rec.activities[0].id for d in rec.datasets)
        assert sess.scalar(select(Dataset.id).where(Dataset.id == first[("2026/03/act1/img_0.tif", 0)])) is None
    kept = {k: v for k, v in now.items() if k in first}
    assert kept == {k: first[k] for k in kept} and len(kept) == 3
    new_id = now[("2026/03/act0/img_3.tif", 0)]
    assert new_id not in first.values()
