"""Fixity audits: a flipped byte or a vanished file is reported, exactly, and never "fixed" silently."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import threading
import time

from opskit import built_hub, run_cli
from sqlalchemy import func, select

from nexuslims_kernel.db.models import Dataset, FixityCheck, IndexedFile
from nexuslims_kernel.hub.doctor import check_fixity
from nexuslims_kernel.ops.fixity import run_audit, run_if_due


def _flip_one_byte(path) -> None:
    """Bit rot: the bytes change, size and mtime do not (so the indexer cannot notice)."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) - 10] ^= 0x40
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _datasets_of(db, relpath: str) -> list[int]:
    with db.session() as sess:
        return list(sess.scalars(select(Dataset.id).join(IndexedFile, IndexedFile.id == Dataset.file_id)
                                 .where(IndexedFile.relpath == relpath)))


def test_flipped_byte_reports_exactly_that_dataset(db, settings, db_url, tmp_path, pool, monkeypatch, capsys) -> None:
    sid, paths = built_hub(db, settings, tmp_path / "store", pool, n=4)
    env = {"NXHUB_DATA_DIR": str(settings.data_dir), "NXHUB_DATABASE_URL": db_url}
    code, out, err = run_cli(monkeypatch, capsys, env, "--json", "fixity", "--all")
    assert (code, json.loads(out)) == (0, []), err
    victim = paths[2]
    rel = victim.relative_to(tmp_path / "store").as_posix()
    with db.session() as sess:
        recorded = sess.scalar(select(IndexedFile.sha256).where(IndexedFile.relpath == rel))
    _flip_one_byte(victim)

    code, out, err = run_cli(monkeypatch, capsys, env, "--json", "fixity", "--all")
    failed = json.loads(out)
    assert code == 1
    assert [(f["relpath"], f["outcome"], f["dataset"]) for f in failed] == [(rel, "mismatch", _datasets_of(db, rel))]
    assert failed[0]["record"] and len(failed[0]["dataset"]) == 1
    (doctor,) = check_fixity(db)
    assert not doctor.ok and rel in doctor.detail
    # never fixed silently: the recorded sha256 stays, the next audit still reports it, --failures lists it
    with db.session() as sess:
        assert sess.scalar(select(IndexedFile.sha256).where(IndexedFile.relpath == rel)) == recorded
    code, out, _err = run_cli(monkeypatch, capsys, env, "--json", "fixity", "--failures")
    assert code == 1 and [f["relpath"] for f in json.loads(out)] == [rel]
    # the admin puts the original bytes back: the next check passes and the mark goes
    _flip_one_byte(victim)
    assert run_audit(db, settings, share=1.0).failed == []
    assert check_fixity(db)[0].ok


def test_missing_file_is_reported_missing(db, settings, tmp_path, pool) -> None:
    _sid, paths = built_hub(db, settings, tmp_path / "store", pool, n=2)
    paths[0].unlink()
    report = run_audit(db, settings, share=1.0)
    assert [(f.relpath, f.outcome) for f in report.failed] == [("run/img_0.tif", "missing")]
    assert report.checked == 2 and report.ok == 1


def test_each_audit_takes_its_share_oldest_checked_first(db, settings, tmp_path, pool) -> None:
    built_hub(db, settings, tmp_path / "store", pool, n=4)
    first = run_audit(db, settings, share=0.5)
    second = run_audit(db, settings, share=0.5)
    with db.session() as sess:
        per_file = dict(sess.execute(select(FixityCheck.file_id, func.count()).group_by(FixityCheck.file_id)).all())
    assert (first.checked, second.checked) == (2, 2)
    assert sorted(per_file.values()) == [1, 1, 1, 1]  # the second audit took the other half


def test_rate_limit_slows_the_reads(db, settings, tmp_path, pool) -> None:
    built_hub(db, settings, tmp_path / "store", pool, n=3)
    report = run_audit(db, settings, share=1.0, rate_mb_s=0.002)  # 2 kB/s
    assert report.bytes_read > 1000
    assert report.elapsed_s >= 0.9 * report.bytes_read / 2000


def test_worker_runs_the_audit_when_idle_and_once_per_interval(db, settings, tmp_path, pool) -> None:
    from nexuslims_kernel.builder import run_worker

    built_hub(db, settings, tmp_path / "store", pool, n=2)
    tuned = dataclasses.replace(settings, ops=dataclasses.replace(settings.ops, fixity_share=1.0, fixity_interval_s=3600))
    stop = threading.Event()
    thread = threading.Thread(target=run_worker, args=(db,), kwargs={"stop_event": stop, "settings": tuned, "poll_s": 0.05})
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with db.session() as sess:
                if sess.scalar(select(func.count()).select_from(FixityCheck)) >= 2:
                    break
            time.sleep(0.05)
        time.sleep(0.3)  # several more idle turns
    finally:
        stop.set()
        thread.join(30)
    with db.session() as sess:
        assert sess.scalar(select(func.count()).select_from(FixityCheck)) == 2  # the share is done for this interval
    assert run_if_due(db, tuned) is None


def test_a_file_changed_after_the_build_is_marked_changed_until_rebuilt(db, settings, tmp_path, pool) -> None:
    """The indexer drops a changed file's sha256; the audit still reports the record's file as changed."""
    from opskit import touch

    from nexuslims_kernel.builder import build_session
    from nexuslims_kernel.files import scan
    from nexuslims_kernel.sessions.machine import move

    sid, paths = built_hub(db, settings, tmp_path / "store", pool, n=2)
    built_mtime = paths[1].stat().st_mtime
    paths[1].write_bytes(paths[1].read_bytes() + b"appended")
    touch(paths[1], dt.datetime.fromtimestamp(built_mtime + 60, dt.UTC))  # an edit, still inside the session
    scan(db, "Titan", settings, full=True)
    first = run_audit(db, settings, share=1.0)
    assert [(f.relpath, f.outcome) for f in first.failed] == [("run/img_1.tif", "changed")]
    again = run_audit(db, settings, share=1.0)
    assert again.failed == [] and check_fixity(db)[0].ok is False  # reported once, still marked
    move(db, sid, "TO_BE_BUILT", actor="test", reason="accept the new bytes")
    assert build_session(db, sid, settings, pool=pool).status == "COMPLETED"
    assert run_audit(db, settings, share=1.0).failed == [] and check_fixity(db)[0].ok


def test_history_keeps_failures_and_only_the_newest_pass(db, settings, tmp_path, pool) -> None:
    _sid, paths = built_hub(db, settings, tmp_path / "store", pool, n=2)
    for _ in range(3):
        run_audit(db, settings, share=1.0)
    _flip_one_byte(paths[0])
    run_audit(db, settings, share=1.0)
    run_audit(db, settings, share=1.0)
    with db.session() as sess:
        rows = sorted(sess.execute(select(IndexedFile.relpath, FixityCheck.outcome)
                                   .join(IndexedFile, IndexedFile.id == FixityCheck.file_id)).all())
    assert rows == [("run/img_0.tif", "mismatch"), ("run/img_0.tif", "mismatch"), ("run/img_0.tif", "ok"),
                    ("run/img_1.tif", "ok")]


def test_the_record_shows_admins_its_failed_checks_and_no_one_else(db, settings, tmp_path, pool) -> None:
    import httpx
    from opskit import api_server

    from nexuslims_kernel.db.api_tokens import create_api_token
    from nexuslims_kernel.db.directory import add_person
    from nexuslims_kernel.db.models import Record
    from nexuslims_kernel.pages.record import summary_html

    _sid, paths = built_hub(db, settings, tmp_path / "store", pool, n=2)
    with db.session(write=True) as sess:
        add_person(sess, "root", is_admin=True)
        tokens = {who: create_api_token(sess, who, "test") for who in ("alice", "root")}
        record_id = sess.scalar(select(Record.id))
    _flip_one_byte(paths[1])
    run_audit(db, settings, share=1.0)
    with api_server(settings, db) as server:
        seen = {who: httpx.get(f"{server.base}/records/{record_id}", headers={"Authorization": f"Bearer {token}"}).json()
                for who, token in tokens.items()}
    (failure,) = seen["root"]["fixity"]
    assert (failure["relpath"], failure["outcome"], [failure["dataset"]]) == ("run/img_1.tif", "mismatch",
                                                                              _datasets_of(db, "run/img_1.tif"))
    assert "fixity" not in seen["alice"]  # the owner sees the record, not the audit
    assert "fixity: run/img_1.tif is mismatch" in summary_html(seen["root"])
    assert "fixity" not in summary_html(seen["alice"])
