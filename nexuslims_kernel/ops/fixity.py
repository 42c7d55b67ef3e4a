"""Fixity audits: re-hash stored files of built records against the sha256 recorded at build time.

Each check is a row in ``fixity_checks``; the newest row per file is its
state. Failed checks are all kept; a passing check replaces the file's older
passing ones, so the table stays about one row per file plus the failures.
A mismatch or a missing file stays marked until a later check of the same
bytes passes: nothing here rewrites a checksum or a file ("never fixed
silently"). Each audit takes the files checked longest ago (never checked
first), a share of the archive, read at a rate limit: with the defaults (5 %
a day) the whole archive is re-proved about every three weeks without
starving the microscopes' own I/O.

The worker calls :func:`run_if_due` when its queue is empty: an audit is due
while fewer files than the share were checked within ``ops.fixity_interval_s``,
and it yields as soon as a session is queued.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from nexuslims_kernel.config import Settings
from nexuslims_kernel.db import Database
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.models import Dataset, IndexedFile, Instrument
from nexuslims_kernel.db.models.fixity import CHANGED, MISMATCH, MISSING, OK, UNREADABLE, FixityCheck

READ_SIZE = 1 << 20
BATCH = 50  # checks written per transaction


@dataclass
class Failure:
    file_id: int
    instrument: str
    relpath: str
    outcome: str
    detail: str
    checked_at: dt.datetime
    record: list[int] = field(default_factory=list)
    dataset: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class AuditReport:
    checked: int = 0
    ok: int = 0
    bytes_read: int = 0
    elapsed_s: float = 0.0
    failed: list[Failure] = field(default_factory=list)


class _Throttle:
    """Sleep so that reads average at most ``mb_s`` MB/s (0 = no limit)."""

    def __init__(self, mb_s: float) -> None:
        self.rate = mb_s * 1e6
        self.start, self.done = time.monotonic(), 0

    def read(self, n: int) -> None:
        self.done += n
        if self.rate:
            ahead = self.done / self.rate - (time.monotonic() - self.start)
            if ahead > 0:
                time.sleep(ahead)


def hash_file(path: str, throttle: _Throttle) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(READ_SIZE):
            digest.update(chunk)
            size += len(chunk)
            throttle.read(len(chunk))
    return digest.hexdigest(), size


def check_one(path: str, expected: str, throttle: _Throttle) -> tuple[str, str | None, int | None, str]:
    """(outcome, actual sha256, bytes read, detail) for one file."""
    try:
        actual, size = hash_file(path, throttle)
    except FileNotFoundError:
        return MISSING, None, None, "the file is not in its store"
    except OSError as exc:
        return UNREADABLE, None, None, f"cannot read: {exc.strerror or exc}"
    if actual != expected:
        return MISMATCH, actual, size, f"sha256 is {actual[:12]}..., {expected[:12]}... was recorded when the record was built"
    return OK, actual, size, ""


def _latest_ids():
    return select(FixityCheck.file_id, func.max(FixityCheck.id).label("last_id")).group_by(FixityCheck.file_id).subquery()


def _audited_files():
    """Files of built records that carry a sha256 (the ones an audit can prove)."""
    return (select(IndexedFile.id).where(IndexedFile.sha256.is_not(None))
            .where(IndexedFile.id.in_(select(Dataset.file_id).where(Dataset.file_id.is_not(None)))))


def select_batch(sess: Session, limit: int) -> list[tuple[int, str, str, str]]:
    """(file id, store root, relpath, sha256) of ``limit`` files, never checked or checked longest ago first."""
    latest = _latest_ids()
    last_at = (select(latest.c.file_id, FixityCheck.checked_at).join(FixityCheck, FixityCheck.id == latest.c.last_id)
               .subquery())
    stmt = (select(IndexedFile.id, Instrument.filestore_root, IndexedFile.relpath, IndexedFile.sha256)
            .join(Instrument, Instrument.id == IndexedFile.instrument_id)
            .outerjoin(last_at, last_at.c.file_id == IndexedFile.id)
            .where(IndexedFile.id.in_(_audited_files()), Instrument.filestore_root.is_not(None))
            .order_by(last_at.c.checked_at.is_not(None), last_at.c.checked_at, IndexedFile.id)
            .limit(limit))
    return [tuple(r) for r in sess.execute(stmt)]


def archive_size(sess: Session) -> int:
    return sess.scalar(select(func.count()).select_from(_audited_files().subquery())) or 0


def run_audit(db: Database, settings: Settings, share: float | None = None, rate_mb_s: float | None = None,
              limit: int | None = None, keep_going: Callable[[], bool] | None = None,
              progress: Callable[[str, int, int], None] | None = None) -> AuditReport:
    """Check ``share`` of the archive (or ``limit`` files); record every check; return what failed."""
    ops = settings.ops
    report, started = AuditReport(), time.monotonic()
    with db.session() as sess:
        total = archive_size(sess)
        n = limit if limit is not None else math.ceil(total * (ops.fixity_share if share is None else share))
        batch = select_batch(sess, n) if n > 0 else []
    throttle = _Throttle(ops.fixity_rate_mb_s if rate_mb_s is None else rate_mb_s)
    failed_ids = mark_changed(db)
    pending: list[FixityCheck] = []
    for i, (file_id, root, relpath, expected) in enumerate(batch, 1):
        if keep_going is not None and not keep_going():
            break
        outcome, actual, size, detail = check_one(os.path.join(root, relpath), expected, throttle)
        pending.append(FixityCheck(file_id=file_id, checked_at=utcnow(), outcome=outcome, expected_sha256=expected,
                                   actual_sha256=actual, size=size, detail=detail))
        report.checked += 1
        report.bytes_read += size or 0
        if outcome == OK:
            report.ok += 1
        else:
            failed_ids.append(file_id)
        if len(pending) >= BATCH or i == len(batch):
            _write(db, pending)
        if progress:
            progress("fixity", i, len(batch))
    _write(db, pending)
    report.elapsed_s = time.monotonic() - started
    report.failed = [f for f in failures(db) if f.file_id in set(failed_ids)]
    return report


def mark_changed(db: Database) -> list[int]:
    """Files of built records the indexer saw change after the build: marked ``changed``, once.

    The indexer drops a changed file's sha256 (it no longer describes the bytes), so
    a hash check cannot see such a file; its new size or mtime against the
    record's dataset row can. The mark stays until the session is rebuilt (the new
    bytes accepted, with a new sha256) and a hash check passes.
    """
    latest = _latest_ids()
    last = (select(latest.c.file_id, FixityCheck.outcome).join(FixityCheck, FixityCheck.id == latest.c.last_id).subquery())
    with db.session(write=True) as sess:
        ids = sess.scalars(
            select(IndexedFile.id).distinct()
            .join(Dataset, Dataset.file_id == IndexedFile.id)
            .outerjoin(last, last.c.file_id == IndexedFile.id)
            .where(IndexedFile.sha256.is_(None), Dataset.file_size.is_not(None),
                   (IndexedFile.size != Dataset.file_size) | (func.abs(IndexedFile.mtime - Dataset.file_mtime) > 1e-3),
                   (last.c.outcome.is_(None)) | (last.c.outcome != CHANGED))).all()
        sess.add_all(FixityCheck(file_id=i, checked_at=utcnow(), outcome=CHANGED, expected_sha256="", actual_sha256=None,
                                 size=None, detail="changed after the record was built (new size or mtime): "
                                                   "rebuild the session to accept the new bytes, or restore the old ones")
                     for i in ids)
    return list(ids)


def _write(db: Database, pending: list[FixityCheck]) -> None:
    """Store checks; a passing check supersedes the file's older passing ones (failures are all kept)."""
    if not pending:
        return
    with db.session(write=True) as sess:
        sess.add_all(pending)
        sess.flush()
        passed = {c.file_id: c.id for c in pending if c.outcome == OK}
        if passed:
            sess.execute(delete(FixityCheck).where(FixityCheck.file_id.in_(list(passed)), FixityCheck.outcome == OK,
                                                   FixityCheck.id.not_in(list(passed.values()))))
    pending.clear()


def failures(db: Database) -> list[Failure]:
    """Files whose newest check failed, with the records and datasets they belong to."""
    latest = _latest_ids()
    with db.session() as sess:
        rows = sess.execute(
            select(FixityCheck.file_id, Instrument.name, IndexedFile.relpath, FixityCheck.outcome, FixityCheck.detail,
                   FixityCheck.checked_at)
            .join(latest, latest.c.last_id == FixityCheck.id)
            .join(IndexedFile, IndexedFile.id == FixityCheck.file_id)
            .join(Instrument, Instrument.id == IndexedFile.instrument_id)
            .where(FixityCheck.outcome != OK).order_by(Instrument.name, IndexedFile.relpath)).all()
        out = [Failure(*row) for row in rows]
        if out:
            holders = sess.execute(select(Dataset.file_id, Dataset.record_id, Dataset.id)
                                   .where(Dataset.file_id.in_([f.file_id for f in out])).order_by(Dataset.id)).all()
            for f in out:
                f.record = sorted({r for fid, r, _d in holders if fid == f.file_id})
                f.dataset = [d for fid, _r, d in holders if fid == f.file_id]
    return out


def record_failures(sess: Session, record_id: int) -> list[dict[str, Any]]:
    """The record's datasets whose file failed its latest check (shown to admins on the record)."""
    latest = _latest_ids()
    rows = sess.execute(
        select(Dataset.id, Dataset.relpath, FixityCheck.outcome, FixityCheck.detail, FixityCheck.checked_at)
        .join(latest, latest.c.file_id == Dataset.file_id)
        .join(FixityCheck, FixityCheck.id == latest.c.last_id)
        .where(Dataset.record_id == record_id, FixityCheck.outcome != OK).order_by(Dataset.id)).all()
    return [{"dataset": d, "relpath": rel, "outcome": outcome, "detail": detail, "checked_at": at.isoformat()}
            for d, rel, outcome, detail, at in rows]


def failure_count(db: Database) -> int:
    latest = _latest_ids()
    with db.session() as sess:
        return sess.scalar(select(func.count()).select_from(FixityCheck)
                           .join(latest, latest.c.last_id == FixityCheck.id).where(FixityCheck.outcome != OK)) or 0


def run_if_due(db: Database, settings: Settings, keep_going: Callable[[], bool] | None = None) -> AuditReport | None:
    """The worker's idle task: check the files still owed in this interval's share, yielding to builds."""
    ops = settings.ops
    if not ops.fixity_interval_s:
        return None
    since = utcnow() - dt.timedelta(seconds=ops.fixity_interval_s)
    with db.session() as sess:
        owed = math.ceil(archive_size(sess) * ops.fixity_share)
        done = sess.scalar(select(func.count(func.distinct(FixityCheck.file_id))).where(FixityCheck.checked_at >= since)) or 0
    if done >= owed:
        return None
    return run_audit(db, settings, limit=owed - done, keep_going=keep_going)
