"""The worker loop: reclaim stale claims, sweep never-ended sessions to review, claim, build, repeat.

SIGTERM stops it cleanly.

One extraction pool lives as long as the worker (warm imports), created on
the first session that has files to extract.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from nexuslims_kernel.builder.pipeline import BuildResult, build_claimed, default_worker_id
from nexuslims_kernel.builder.queue import claim_next, queue_has_work, reclaim_stale
from nexuslims_kernel.config import Settings, get_settings
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.sessions.review import sweep_unended

log = logging.getLogger(__name__)
POLL_S = 2.0


class LazyPool:
    """An ExtractionPool started on first use and closed with the worker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool: Any = None

    def imap(self, paths: list[str], **kwargs: Any) -> Iterator[Any]:
        if self._pool is None:
            from nexuslims_kernel.extract import ExtractionPool

            ex = self.settings.extract
            self._pool = ExtractionPool(workers=ex.workers or None, timeout_s=ex.timeout_s, memory_mb=ex.memory_mb)
            self._pool.start()
        return self._pool.imap(paths, **kwargs)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


@contextlib.contextmanager
def _sigterm_sets(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT finish the current build, then stop (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_worker(
    db: Database,
    once: bool = False,
    stop_event: threading.Event | None = None,
    settings: Settings | None = None,
    worker_id: str | None = None,
    on_result: Callable[[BuildResult], None] | None = None,
    poll_s: float = POLL_S,
    on_claim: Callable[[int], None] | None = None,
) -> int:
    """Build queued sessions until stopped (``once``: at most one). Returns the number built.

    ``on_claim(session_id)`` is called as soon as a session is claimed, ``on_result`` when it is done.
    """
    settings = settings or get_settings()
    worker_id = worker_id or default_worker_id()
    stop = stop_event or threading.Event()
    pool = LazyPool(settings)
    built = 0
    idle_audit = _IdleAudit(db, settings)
    paused = _DiskPause(settings)
    with _sigterm_sets(stop):
        try:
            while not stop.is_set():
                reclaim_stale(db, settings, actor=worker_id)
                sweep_unended(db, settings, actor=worker_id)
                if paused.check():
                    stop.wait(poll_s)
                    continue
                sid = claim_next(db, worker_id)
                if sid is None:
                    if once:
                        break
                    idle_audit(stop)
                    stop.wait(poll_s)
                    continue
                if on_claim:
                    on_claim(sid)
                result = build_claimed(db, sid, worker_id, settings, pool=pool)
                log.debug("session %s -> %s (%s)", sid, result.status, result.error or f"{result.n_datasets} datasets")
                built += 1
                if on_result:
                    on_result(result)
                if once:
                    break
        finally:
            pool.close()
    return built


class _DiskPause:
    """Is the disk too full to build? Logs once when builds pause and once when they resume."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.reason = settings, None

    def check(self) -> bool:
        from nexuslims_kernel.ops.disk import low_disk

        reason = low_disk(self.settings)
        if bool(reason) != bool(self.reason):  # the free MB in the text moves; paused or not is what counts
            if reason:
                log.warning("%s; resuming by itself once space is freed", reason)
            else:
                log.warning("builds resumed: enough free disk space again")
        self.reason = reason
        return reason is not None


class _IdleAudit:
    """A share of the fixity audit while nothing is queued; it stops as soon as a session is.

    Whether an audit is due is asked at most once a minute (it counts the archive).
    """

    EVERY_S = 60.0

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings, self.next_at = db, settings, 0.0

    def __call__(self, stop: threading.Event) -> None:
        import time

        from nexuslims_kernel.ops.fixity import run_if_due

        if not self.settings.ops.fixity_interval_s or time.monotonic() < self.next_at:
            return
        self.next_at = time.monotonic() + self.EVERY_S
        try:
            report = run_if_due(self.db, self.settings, keep_going=lambda: not stop.is_set() and not queue_has_work(self.db))
        except Exception:  # an audit must never stop the builds; the next idle turn tries again
            log.exception("fixity audit failed")
            return
        if report is not None and report.failed:
            log.warning("fixity audit: %d of %d file(s) failed, see 'nxhub fixity --failures'", len(report.failed), report.checked)


def drain(db: Database, settings: Settings | None = None, worker_id: str | None = None,
          on_result: Callable[[BuildResult], None] | None = None) -> list[BuildResult]:
    """Build everything that is queued and ready now, then return the results."""
    settings = settings or get_settings()
    worker_id = worker_id or default_worker_id()
    pool = LazyPool(settings)
    results: list[BuildResult] = []
    try:
        reclaim_stale(db, settings, actor=worker_id)
        sweep_unended(db, settings, actor=worker_id)
        while (sid := claim_next(db, worker_id)) is not None:
            result = build_claimed(db, sid, worker_id, settings, pool=pool)
            results.append(result)
            if on_result:
                on_result(result)
    finally:
        pool.close()
    return results
