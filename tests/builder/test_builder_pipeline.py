"""A session over real files becomes a record: datasets, activities, valid XML, errors kept."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from buildkit import T0, add_sessions, add_store, place, touch, tuned
from sqlalchemy import func, select

from nexuslims_kernel.builder import build_session, drain
from nexuslims_kernel.db.models import Dataset, InstrumentSession, Record
from nexuslims_kernel.records import load_record, to_xml, validation_errors

MIN = dt.timedelta(minutes=1)
# Corpus files without a time stamp inside (their mtime is the acquisition time) ...
BURST_A = ["rosettasciio/dm/synthetic_2D_test-1.dm3", "rosettasciio/dm/synthetic_3D_test-2.dm4",
           "rosettasciio/tiff_other/test_loading_image_saved_with_DM.tif"]
BURST_B = ["rosettasciio/pantarhei/panta_rhei_sample.prz", "exspy/msa/coreloss_spectrum.msa"]
# ... and a TIA pair whose .emi carries its own (2016) time: an activity of its own, two signals, two companions.
TIA = ["rosettasciio/tia/old/16x16_STEM_BF_DF_acquire.emi", "rosettasciio/tia/old/16x16_STEM_BF_DF_acquire_1.ser",
       "rosettasciio/tia/old/16x16_STEM_BF_DF_acquire_2.ser"]


@pytest.fixture(scope="module")
def pool():
    from nexuslims_kernel.extract import ExtractionPool

    with ExtractionPool(workers=2, timeout_s=60, memory_mb=1500) as p:
        yield p


def record_of(db, session_id: int):
    with db.session() as sess:
        rec_id = sess.scalar(select(Record.id).where(Record.session_id == session_id))
        return load_record(sess, rec_id)


def status_of(db, session_id: int) -> InstrumentSession:
    with db.session() as sess:
        return sess.get(InstrumentSession, session_id)


def test_corpus_session_gives_a_valid_record_with_activities(db, settings, tmp_path: Path, corpus_dir: Path, pool) -> None:
    root = tmp_path / "store"
    inst = add_store(db, root)
    (sid,) = add_sessions(db, inst, [T0], hours=3)
    for i, rel in enumerate(BURST_A):
        place(corpus_dir / rel, root / "day" / Path(rel).name, T0 + (10 + i) * MIN)
    for i, rel in enumerate(BURST_B):
        place(corpus_dir / rel, root / "day" / Path(rel).name, T0 + (120 + 2 * i) * MIN)
    for rel in TIA:
        place(corpus_dir / rel, root / "day" / "tia" / Path(rel).name, T0 + 150 * MIN)
    place(corpus_dir / BURST_A[0], root / "other-day" / "outside.dm3", T0 + dt.timedelta(days=1))

    steps: list[tuple[str, int, int]] = []
    result = build_session(db, sid, settings, pool=pool, progress=lambda *a: steps.append(a))
    assert result.status == "COMPLETED", result.error
    assert (result.n_files, result.n_datasets, result.n_activities, result.warnings) == (8, 7, 3, [])
    assert ("files", 8, 8) in steps and ("extracted", 6, 6) in steps and steps[-1] == ("record", 1, 1)

    record = record_of(db, sid)
    assert record.n_datasets == 7 and len(record.activities) == 3
    assert [len([d for d in record.datasets if d.activity_id == a.id]) for a in record.activities] == [2, 3, 2]
    emi = [d for d in record.datasets if d.relpath == "day/tia/16x16_STEM_BF_DF_acquire.emi"]
    assert len(emi) == 2 and sorted(emi[0].companions) == ["day/tia/16x16_STEM_BF_DF_acquire_1.ser",
                                                             "day/tia/16x16_STEM_BF_DF_acquire_2.ser"]
    assert validation_errors(to_xml(record)) == []
    assert status_of(db, sid).status == "COMPLETED"

    # Rebuild: same record id, every file from the extraction cache.
    from nexuslims_kernel.sessions.machine import move

    move(db, sid, "TO_BE_BUILT", actor="test")
    again = build_session(db, sid, settings, pool=pool)
    assert (again.status, again.n_cached, again.n_extracted, again.record_id) == ("COMPLETED", 6, 0, result.record_id)
    with db.session() as sess:
        assert sess.scalar(select(func.count()).select_from(Dataset).where(Dataset.record_id == result.record_id)) == 7


def test_rosettasciio_written_files_become_a_record(db, settings, tmp_path: Path, pool) -> None:
    import numpy as np
    from rsciio.tiff import file_writer as write_tiff

    root = tmp_path / "store"
    inst = add_store(db, root)
    (sid,) = add_sessions(db, inst, [T0])
    rng = np.random.default_rng(1)
    axes2 = [{"size": 32, "name": n, "units": "nm", "scale": 0.5, "offset": 0, "navigate": False} for n in "yx"]
    for i in range(3):
        path = root / f"img_{i}.tif"
        write_tiff(str(path), {"data": rng.random((32, 32)).astype("float32"), "axes": axes2, "metadata": {}, "original_metadata": {}})
        touch(path, T0 + (5 + i) * MIN)
    spec = root / "spectrum.hspy"
    import hyperspy.api as hs

    signal = hs.signals.Signal1D(rng.random(256).astype("float32"))
    signal.axes_manager[0].units = "keV"
    signal.save(spec)
    touch(spec, T0 + 90 * MIN)
    result = build_session(db, sid, settings, pool=pool)
    assert (result.status, result.n_datasets, result.n_activities) == ("COMPLETED", 4, 2), result
    record = record_of(db, sid)
    assert validation_errors(to_xml(record)) == []
    assert sorted(d.dataset_type for d in record.datasets) == ["Image", "Image", "Image", "Spectrum"]


def test_a_corrupt_file_is_a_dataset_error_not_a_failed_build(db, settings, tmp_path: Path, corpus_dir: Path, pool) -> None:
    root = tmp_path / "store"
    inst = add_store(db, root)
    (sid,) = add_sessions(db, inst, [T0])
    place(corpus_dir / BURST_A[0], root / "good.dm3", T0 + 10 * MIN)
    broken = root / "broken.dm3"
    broken.write_bytes(b"\x00\x00\x00\x03" + b"not a real dm3 file" * 50)
    touch(broken, T0 + 11 * MIN)
    result = build_session(db, sid, settings, pool=pool)
    assert result.status == "COMPLETED" and result.n_datasets == 2
    assert len(result.warnings) == 1 and result.warnings[0].startswith("broken.dm3: ")
    record = record_of(db, sid)
    bad = [d for d in record.datasets if d.relpath == "broken.dm3"]
    good = [d for d in record.datasets if d.relpath == "good.dm3"]
    assert bad[0].error and not good[0].error
    assert record.warnings == result.warnings
    assert validation_errors(to_xml(record)) == []
    session = status_of(db, sid)
    assert session.status == "COMPLETED" and "1 warning" in session.status_reason and "broken.dm3" in session.status_reason


def test_no_files_waits_for_late_uploads_then_gives_up(db, settings, tmp_path: Path) -> None:
    inst = add_store(db, tmp_path / "store")
    now = dt.datetime.now(dt.UTC)
    recent, old = add_sessions(db, inst, [now - dt.timedelta(hours=1), T0], hours=0.5)
    results = {r.session_id: r for r in drain(db, tuned(settings, no_files_wait_s=3600))}
    assert results[recent].status == "TO_BE_BUILT" and results[old].status == "NO_FILES"
    waiting = status_of(db, recent)
    assert waiting.status == "TO_BE_BUILT" and waiting.not_before > now and waiting.attempts == 0
    assert "late uploads" in waiting.status_reason
    assert drain(db, tuned(settings, no_files_wait_s=3600)) == []  # not_before respected
    later = drain(db, tuned(settings, no_files_wait_s=0)) or [build_session(db, recent, tuned(settings, no_files_wait_s=0))]
    assert later[0].status == "NO_FILES"
