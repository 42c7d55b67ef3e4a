"""A disk too full to build on: workers stop claiming, say why, and resume by themselves; metrics show it."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

from opskit import T0, add_sessions, add_store, write_tiffs
from sqlalchemy import select

from nexuslims_kernel.db.models import InstrumentSession
from nexuslims_kernel.ops.disk import low_disk


def _need(settings, mb: int):
    return dataclasses.replace(settings, ops=dataclasses.replace(settings.ops, build_min_free_mb=mb, fixity_interval_s=0))


def test_worker_pauses_below_the_free_space_threshold_and_resumes(db, settings, tmp_path, caplog) -> None:
    import shutil

    from nexuslims_kernel.builder import run_worker

    free_mb = shutil.disk_usage(settings.data_dir).free // 1_000_000
    full = _need(settings, free_mb + 1_000_000)  # this disk is "full": a terabyte more than it has is needed
    assert "builds paused" in low_disk(full) and "ops.build_min_free_mb" in low_disk(full)
    assert low_disk(_need(settings, 1)) is None and low_disk(_need(settings, 0)) is None
    (sid,) = add_sessions(db, add_store(db, tmp_path / "store"), [T0])
    write_tiffs(tmp_path / "store", 1)
    box = {"settings": full}
    stop = threading.Event()
    caplog.set_level(logging.WARNING, logger="nexuslims_kernel.builder.worker")

    class Live:  # the worker reads settings.ops each turn: swap in the "space freed" settings while it runs
        def __getattr__(self, name):
            return getattr(box["settings"], name)

    thread = threading.Thread(target=run_worker, args=(db,), kwargs={"stop_event": stop, "settings": Live(), "poll_s": 0.05})
    thread.start()
    try:
        time.sleep(1.0)
        with db.session() as sess:
            assert sess.scalar(select(InstrumentSession.status).where(InstrumentSession.id == sid)) == "TO_BE_BUILT"
        assert sum("builds paused" in r.getMessage() for r in caplog.records) == 1  # said once, not every poll
        box["settings"] = _need(settings, 1)  # space freed
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.session() as sess:
                if sess.scalar(select(InstrumentSession.status).where(InstrumentSession.id == sid)) == "COMPLETED":
                    break
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(60)
    with db.session() as sess:
        assert sess.scalar(select(InstrumentSession.status).where(InstrumentSession.id == sid)) == "COMPLETED"
    assert any("builds resumed" in r.getMessage() for r in caplog.records)
