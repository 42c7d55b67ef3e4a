"""Builds read naive vendor times in the instrument's zone (not the build machine's)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from buildkit import add_sessions, touch
from sqlalchemy import select

from nexuslims_kernel.builder import build_session
from nexuslims_kernel.db.directory import add_instrument, add_person
from nexuslims_kernel.db.models import Dataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extract"))
from naivetime import naive_rpl

pytest.importorskip("hyperspy.api")
UTC = dt.UTC


def test_a_build_reads_naive_times_in_the_instruments_zone(db, settings, tmp_path) -> None:
    root = tmp_path / "store"
    root.mkdir()
    with db.session(write=True) as sess:
        inst = add_instrument(sess, "Titan", timezone="Europe/Berlin", filestore_root=str(root))
        add_person(sess, "alice", display_name="Alice")
        inst_id = inst.id
    (sid,) = add_sessions(db, inst_id, [dt.datetime(2024, 1, 15, 8, 30, tzinfo=UTC)], hours=2)
    # 10:00 on the Berlin PC's clock is 09:00 UTC, which is also when the file was written.
    touch(naive_rpl(root), dt.datetime(2024, 1, 15, 9, 0, tzinfo=UTC))
    result = build_session(db, sid, settings)
    assert result.status == "COMPLETED", result.error
    with db.session() as sess:
        ds = sess.scalar(select(Dataset).where(Dataset.relpath == "scan.rpl"))
        assert ds.meta["acquisition_time"] == "2024-01-15T10:00:00+01:00"
        assert ds.acquired_at == dt.datetime(2024, 1, 15, 9, 0, tzinfo=UTC)
