"""A file belongs to at most one session's record, unless an admin says otherwise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from buildkit import T0, add_sessions, add_store, place
from sqlalchemy import select

from nexuslims_kernel.builder import build_session
from nexuslims_kernel.db.models import Dataset, InstrumentSession, Record
from nexuslims_kernel.sessions.machine import move

MIN = dt.timedelta(minutes=1)
DM3 = "rosettasciio/dm/synthetic_2D_test-1.dm3"


@pytest.fixture(scope="module")
def pool():
    from nexuslims_kernel.extract import ExtractionPool

    with ExtractionPool(workers=1, timeout_s=60, memory_mb=1500) as p:
        yield p


def files_of(db, session_id: int) -> list[str]:
    with db.session() as sess:
        rid = sess.scalar(select(Record.id).where(Record.session_id == session_id))
        return sorted(sess.scalars(select(Dataset.relpath).where(Dataset.record_id == rid)))


def test_a_file_in_two_session_windows_goes_to_one_record(db, settings, tmp_path: Path, corpus_dir: Path, pool) -> None:
    root = tmp_path / "store"
    inst = add_store(db, root)
    first, second = add_sessions(db, inst, [T0, T0 + dt.timedelta(hours=2)], hours=2)
    place(corpus_dir / DM3, root / "a" / "early.dm3", T0 + 30 * MIN)
    place(corpus_dir / DM3, root / "a" / "boundary.dm3", T0 + 121 * MIN)  # in the second, and in the first's grace
    place(corpus_dir / DM3, root / "a" / "late.dm3", T0 + 180 * MIN)
    assert build_session(db, first, settings, pool=pool).status == "COMPLETED"
    assert files_of(db, first) == ["a/boundary.dm3", "a/early.dm3"]
    result = build_session(db, second, settings, pool=pool)
    assert result.status == "COMPLETED"
    assert files_of(db, second) == ["a/late.dm3"]
    with db.session() as sess:
        first_record = sess.scalar(select(Record.id).where(Record.session_id == first))
        warning = sess.scalar(select(Record.warnings).where(Record.session_id == second))
    assert any(f"record {first_record}: a/boundary.dm3" in w and "--share-files" in w for w in warning)
    # Rebuilding the first keeps its own file; an admin's say-so lets the second take it too.
    move(db, first, "TO_BE_BUILT", actor="test")
    assert build_session(db, first, settings, pool=pool).status == "COMPLETED"
    assert files_of(db, first) == ["a/boundary.dm3", "a/early.dm3"]
    with db.session(write=True) as sess:
        sess.get(InstrumentSession, second).share_files = True
    move(db, second, "TO_BE_BUILT", actor="admin")
    assert build_session(db, second, settings, pool=pool).status == "COMPLETED"
    assert files_of(db, second) == ["a/boundary.dm3", "a/late.dm3"]
