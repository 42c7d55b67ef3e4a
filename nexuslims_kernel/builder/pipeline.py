"""Build one session's record: files -> extraction -> activities -> record, atomically.

The slow part (extraction) runs outside any transaction while a heartbeat
keeps the claim alive; the record, the extraction cache and the COMPLETED
transition are then written in one transaction that first checks the claim
is still ours, so a session reclaimed from a slow worker is never written twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from nexuslims_kernel.builder import fixity, ownership
from nexuslims_kernel.builder.activities import cluster
from nexuslims_kernel.builder.extraction import (
    MainFile,
    Progress,
    attach_cached,
    extract_missing,
    extractor_version,
    files_to_read,
    group_files,
    store_results,
)
from nexuslims_kernel.builder.queue import Heartbeat, claim_next, fail, lock_claim, release
from nexuslims_kernel.config import Settings, get_settings
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.db.models import Instrument, InstrumentSession
from nexuslims_kernel.errors import IllegalTransitionError, NotFoundError, NxhubError
from nexuslims_kernel.files import find_session_files, scan
from nexuslims_kernel.sessions.machine import transition
from nexuslims_kernel.sessions.states import SessionStatus as S
from nexuslims_kernel.stores import ObjectInfo, open_view

log = logging.getLogger(__name__)


@dataclass
class BuildResult:
    """Outcome of one build attempt."""

    session_id: int
    status: str
    record_id: int | None = None
    n_files: int = 0
    n_datasets: int = 0
    n_activities: int = 0
    n_extracted: int = 0
    n_cached: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def dataset_inputs(main: MainFile) -> list[Any]:
    """One DatasetInput per signal of a main file (one carrying the error if it yielded none)."""
    from nexuslims_kernel.records import DatasetInput

    res = main.result
    error = getattr(res, "error", None)
    common = {"relpath": main.row.relpath, "file_id": main.row.id, "size": main.row.size, "mtime": main.row.mtime,
              "format": getattr(res, "format", None), "companions": list(main.companions)}
    if res is None or not res.datasets:
        return [DatasetInput(**common, result=None, file_error=error or "no datasets could be read")]
    return [DatasetInput(**common, result=ds, file_error=error) for ds in res.datasets]


def file_warnings(mains: list[MainFile]) -> list[str]:
    out = []
    for m in mains:
        res = m.result
        errors = [res.error] if res is not None and res.error else []
        errors += [f"signal {d.index}: {d.error}" for d in (res.datasets if res else []) if d.error]
        if res is None:
            errors = ["not extracted"]
        if errors:
            out.append(f"{m.row.relpath}: {'; '.join(errors)}")
    return out


def activities_of(mains: list[MainFile], tz: str, sensitivity: float) -> list[list[Any]]:
    """Datasets grouped into activities; a file's signals always stay in one activity."""
    per_file = [dataset_inputs(m) for m in mains]

    def when(items: list[Any]) -> float:
        stamps = [t.timestamp() for t in (i.acquired_at(tz) for i in items) if t is not None]
        return min(stamps) if stamps else float(items[0].mtime or 0)

    return [[item for items in group for item in items] for group in cluster(per_file, when, sensitivity)]


def _drop_held(sess: Any, sid: int, activities: list[list[Any]]) -> tuple[list[list[Any]], dict[int, list[str]]]:
    """Activities without the datasets of files another record holds (checked inside the write transaction)."""
    out: dict[int, list[str]] = {}
    kept = []
    for items in activities:
        items, held = ownership.split_held(sess, sid, items, lambda i: i.file_id, lambda i: i.relpath)
        for rid, paths in held.items():
            out.setdefault(rid, []).extend(sorted(set(paths)))
        if items:
            kept.append(items)
    return kept, out


@contextlib.contextmanager
def _pool_for(pool: Any, n_files: int, settings: Settings) -> Iterator[Any]:
    if pool is not None or n_files == 0:
        yield pool
        return
    from nexuslims_kernel.extract import ExtractionPool

    workers = min(settings.extract.workers or os.cpu_count() or 1, n_files)
    with ExtractionPool(workers=workers, timeout_s=settings.extract.timeout_s, memory_mb=settings.extract.memory_mb) as p:
        yield p


def _no_files(db: Database, sid: int, worker: str, end: dt.datetime | None, settings: Settings, result: BuildResult) -> BuildResult:
    """Wait for late uploads until end + no_files_wait_s, then NO_FILES."""
    wait_until = (end or utcnow()) + dt.timedelta(seconds=settings.build.no_files_wait_s)
    if utcnow() < wait_until:
        release(db, sid, worker, S.TO_BE_BUILT, f"no files yet; waiting for late uploads until {wait_until.isoformat()}",
                not_before=wait_until, refund_attempt=True)
        result.status = S.TO_BE_BUILT
    else:
        release(db, sid, worker, S.NO_FILES, "no files were found in the session window")
        result.status = S.NO_FILES
    return result


def _relist_session_dirs(db: Database, inst_id: int, rows: list[Any], settings: Settings) -> bool:
    """List the session's folders again, so a file rewritten in place (folder mtime unchanged) is re-read.

    The incremental scan trusts a cold folder's mtime; a build must not: a rebuilt record shows the file
    as it is now. Returns True when the index changed.
    """
    stats = scan(db, inst_id, settings, force_dirs={r.relpath.rpartition("/")[0] for r in rows})
    return bool(stats.added_or_changed or stats.deleted)


def _build_claimed(db: Database, sid: int, worker: str, settings: Settings, pool: Any, progress: Progress | None,
                   rescan: bool) -> BuildResult:
    with contextlib.ExitStack() as stack:  # a bucket store's local view lives as long as the build
        return _build_steps(db, sid, worker, settings, pool, progress, rescan, stack)


def _build_steps(db: Database, sid: int, worker: str, settings: Settings, pool: Any, progress: Progress | None,
                 rescan: bool, stack: contextlib.ExitStack) -> BuildResult:
    result = BuildResult(session_id=sid, status=S.BUILDING)
    with db.session() as sess:
        session = sess.get(InstrumentSession, sid)
        inst = session.instrument
        inst_id, inst_name, root, inst_tz, end = inst.id, inst.name, inst.filestore_root, inst.timezone, session.end
        share = session.share_files  # an admin let this record take files another record holds
    tz = inst_tz or "UTC"
    if not root:
        raise NxhubError(f"instrument {inst_name} has no file store root")
    if rescan:
        scan(db, inst_id, settings)
    version = extractor_version(inst_tz)
    with db.session() as sess:
        rows = find_session_files(sess, sess.get(InstrumentSession, sid), settings)
    if rescan and rows and _relist_session_dirs(db, inst_id, rows, settings):
        with db.session() as sess:
            rows = find_session_files(sess, sess.get(InstrumentSession, sid), settings)
    view = stack.enter_context(open_view(root, settings))  # a folder: itself; a bucket: filled from the cache
    with db.session() as sess:
        mains = group_files(str(view.root), rows)
        left_out: dict[int, list[str]] = {}
        if not share:  # a file belongs to at most one record
            mains, left_out = ownership.split_held(sess, sid, mains, lambda m: m.row.id, lambda m: m.row.relpath)
            keep = {p for m in mains for p in (m.row.relpath, *m.companions)}
            rows = [r for r in rows if r.relpath in keep]
        attach_cached(sess, inst_id, mains, version)
    result.n_files = len(rows)
    if progress:
        progress("files", len(rows), len(rows))
    if not rows:
        return _no_files(db, sid, worker, end, settings, result)
    result.n_cached = sum(m.cached for m in mains)
    view.fetch(ObjectInfo(r.relpath, r.size, r.mtime, r.etag) for r in files_to_read(mains, rows, settings.build.checksums))
    with _pool_for(pool, len(mains) - result.n_cached, settings) as p:
        extract_missing(mains, p, settings.previews_path / inst_name, inst_name, progress, timezone=inst_tz)
    result.n_extracted = len(mains) - result.n_cached
    sums = fixity.compute(str(view.root), rows, os.cpu_count() or 1, progress) if settings.build.checksums else []
    activities = activities_of(mains, tz, settings.build.activity_sensitivity)
    result.warnings = file_warnings(mains)
    from nexuslims_kernel.records import write_record

    with db.session(write=True) as sess:
        if not share:
            # One record write per instrument at a time (PostgreSQL; SQLite writes are serial), so two workers
            # building neighbouring sessions cannot both take a file they share. Taken before our session's row
            # lock, so our heartbeat keeps beating while we wait.
            sess.execute(select(Instrument.id).where(Instrument.id == inst_id).with_for_update())
        lock_claim(sess, sid, worker)
        store_results(sess, db.dialect, inst_id, mains, version)
        fixity.store(sess, sums)
        if sess.get(InstrumentSession, sid).end != end:  # the Logger corrected the end while we built
            transition(sess, sid, S.TO_BE_BUILT, actor=worker, expect=S.BUILDING, reason="end corrected while building",
                       values={"claimed_by": None, "heartbeat_at": None, "attempts": InstrumentSession.attempts - 1})
            result.status = S.TO_BE_BUILT
            return result
        if not share:  # another record may have taken some of these files while we extracted
            activities, late = _drop_held(sess, sid, activities)
            for rid, paths in late.items():
                left_out.setdefault(rid, []).extend(paths)
        if left_out:
            result.warnings.append(ownership.left_out_warning(sid, left_out))
        record = write_record(sess, sess.get(InstrumentSession, sid), activities, result.warnings,
                              previews_root=settings.previews_path)
        reason = f"built with {len(result.warnings)} warning(s): {result.warnings[0]}" if result.warnings else None
        transition(sess, sid, S.COMPLETED, actor=worker, reason=reason, expect=S.BUILDING,
                   values={"claimed_by": None, "heartbeat_at": None})
        result.record_id = record.id
    result.n_datasets = sum(len(a) for a in activities)
    result.n_activities = len(activities)
    result.status = S.COMPLETED
    if progress:
        progress("record", 1, 1)
    return result


def build_claimed(db: Database, session_id: int, worker_id: str, settings: Settings | None = None, pool: Any = None,
                  progress: Progress | None = None, rescan: bool = True) -> BuildResult:
    """Build a session this worker has already claimed, heartbeating; failures are recorded, not raised."""
    settings = settings or get_settings()
    started = time.perf_counter()
    with Heartbeat(db, session_id, worker_id, settings.build.heartbeat_s):
        try:
            result = _build_claimed(db, session_id, worker_id, settings, pool, progress, rescan)
        except Exception as exc:
            msg = str(exc) if isinstance(exc, NxhubError) else f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, NxhubError):
                log.exception("building session %s failed", session_id)
            try:
                status = fail(db, session_id, worker_id, msg, settings)
            except NxhubError as again:  # claim lost meanwhile: someone else owns the session now
                msg, status = f"{msg} ({again})", S.BUILDING
            result = BuildResult(session_id=session_id, status=status, error=msg)
    result.elapsed_s = round(time.perf_counter() - started, 4)
    return result


def build_session(db: Database, session_id: int, settings: Settings | None = None, pool: Any = None,
                  progress: Progress | None = None, worker_id: str | None = None, rescan: bool = True) -> BuildResult:
    """Claim (if queued) and build one session now, ignoring its not_before time."""
    settings = settings or get_settings()
    worker_id = worker_id or default_worker_id()
    with db.session() as sess:
        row = sess.get(InstrumentSession, session_id)
        if row is None:
            raise NotFoundError(f"session {session_id} does not exist")
        status, holder = row.status, row.claimed_by
    if status == S.TO_BE_BUILT:
        if claim_next(db, worker_id, session_id=session_id) is None:
            raise IllegalTransitionError(f"session {session_id} was claimed by another worker first")
    elif not (status == S.BUILDING and holder == worker_id):
        hint = f"; queue it again with 'nxhub sessions rebuild {session_id}'" if status != S.BUILDING else f" by {holder}"
        raise IllegalTransitionError(f"session {session_id} is {status}, not TO_BE_BUILT{hint}")
    return build_claimed(db, session_id, worker_id, settings, pool, progress, rescan)
