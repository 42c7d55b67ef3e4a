"""Warm worker processes that extract files with a wall-time and memory limit.

Each worker is a ``spawn``-ed process that imports the readers once and then
serves many files. The parent waits on every busy worker's pipe and process
sentinel at once: a result comes back, the worker dies (segfault, kill -9,
out of memory) or its deadline passes (the parent kills it). In the last two
cases the file gets an error result and only that worker is replaced.
Memory is capped in the worker with ``RLIMIT_AS``, so a huge allocation
raises ``MemoryError`` there (an error result) instead of swapping the host.

``imap`` yields results in completion order (``map`` gives input order).
This module imports nothing heavy: the parent stays small.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from nexuslims_kernel.extract.results import FileResult

STARTUP_TIMEOUT_S = 120.0
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def _limit_memory(memory_mb: int | None) -> None:
    if not memory_mb:
        return
    import resource

    limit = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _worker_main(conn: Connection, memory_mb: int | None) -> None:
    """Worker loop: import once, then extract every job the parent sends."""
    for var in _THREAD_VARS:  # one BLAS thread: little address space, no oversubscription
        os.environ.setdefault(var, "1")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    # The parent's stdout may be a --json document: whatever a reader prints or logs goes to stderr.
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import logging

    logging.getLogger("rsciio").setLevel(logging.ERROR)
    import dask.array  # noqa: F401  - warm: every lazy reader needs it
    import numpy  # noqa: F401

    from nexuslims_kernel.extract.core import extract_file
    from nexuslims_kernel.extract.registry import REGISTRY

    REGISTRY.extractors()
    _limit_memory(memory_mb)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        job_id, path, preview_dir, instrument, timezone, size, plugin_paths = job
        for target in plugin_paths:
            if target not in REGISTRY.registered_paths:
                REGISTRY.register_path(target)
        try:
            result = extract_file(path, preview_dir=preview_dir, instrument=instrument, preview_size=size,
                                  timezone=timezone).to_dict()
        except MemoryError:
            result = FileResult(path=str(path), error="out of memory (the extraction memory limit was reached)").to_dict()
        conn.send((job_id, result))


@dataclass
class _Worker:
    proc: Any
    conn: Connection
    ready: bool = False
    job: tuple[int, str] | None = None
    started: float = 0.0
    deadline: float = 0.0


def _death_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (killed: out of memory or by an operator?)" if name == "SIGKILL" else ""
        return f"extraction worker died with {name}{hint}"
    return f"extraction worker exited unexpectedly (exit code {exitcode})"


def _error_result(path: str, error: str, elapsed: float) -> FileResult:
    result = FileResult(path=path, format=Path(path).suffix.lower().lstrip(".") or "unknown", error=error,
                        elapsed_s=round(elapsed, 4))
    try:
        st = os.stat(path)
        result.size, result.mtime = st.st_size, st.st_mtime
    except OSError:
        pass
    return result


class ExtractionPool:
    """Isolated, warm extraction workers. ``None`` arguments come from ``settings.extract``."""

    def __init__(self, workers: int | None = None, timeout_s: float | None = None, memory_mb: int | None = None,
                 context: str = "spawn") -> None:
        from nexuslims_kernel.config import get_settings

        settings = get_settings().extract
        self.n_workers = workers or settings.workers or os.cpu_count() or 1
        self.timeout_s = float(timeout_s or settings.timeout_s)
        self.memory_mb = settings.memory_mb if memory_mb is None else memory_mb
        self._ctx = mp.get_context(context)
        self._workers: list[_Worker] = []
        self._next_id = 0

    # -- lifecycle -------------------------------------------------------
    def __enter__(self) -> ExtractionPool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        while len(self._workers) < self.n_workers:
            self._workers.append(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker_main, args=(child, self.memory_mb), daemon=True,
                                 name="nxhub-extract")
        proc.start()
        child.close()
        return _Worker(proc=proc, conn=parent, started=time.monotonic())

    def _replace(self, worker: _Worker) -> None:
        self._kill(worker)
        self._workers[self._workers.index(worker)] = self._spawn()

    @staticmethod
    def _kill(worker: _Worker) -> None:
        if worker.proc.is_alive():
            worker.proc.kill()
        worker.proc.join(5)
        worker.conn.close()

    def close(self) -> None:
        """Ask workers to finish, then kill any that do not."""
        for worker in self._workers:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
        for worker in self._workers:
            worker.proc.join(2)
            self._kill(worker)
        self._workers = []

    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers if w.proc.pid]

    def busy_pids(self) -> list[int]:
        """Pids of workers that are extracting a file right now."""
        return [w.proc.pid for w in self._workers if w.job is not None]

    # -- work ------------------------------------------------------------
    def map(self, paths: Iterable[str | os.PathLike[str]], **kwargs: Any) -> list[FileResult]:
        """Results in input order."""
        items = [str(p) for p in paths]
        order = {p: i for i, p in reversed(list(enumerate(items)))}
        results = sorted(self.imap(items, **kwargs), key=lambda r: order.get(r.path, 0))
        return results

    def imap(self, paths: Iterable[str | os.PathLike[str]], preview_dir: Path | str | None = None,
             instrument: str | None = None, preview_size: int | None = None,
             timezone: str | None = None) -> Iterator[FileResult]:
        """Results in completion order; a bad file gives an error result, never an exception.

        ``timezone``: the instrument's zone for naive vendor times (see :func:`extract_file`).
        """
        from nexuslims_kernel.extract.registry import REGISTRY

        if not self._workers:
            self.start()
        queue = deque(str(p) for p in paths)
        plugins = REGISTRY.registered_paths
        preview = str(preview_dir) if preview_dir is not None else None
        while queue or any(w.job for w in self._workers):
            for worker in self._workers:
                if worker.ready and worker.job is None and queue:
                    path = queue.popleft()
                    self._next_id += 1
                    worker.job = (self._next_id, path)
                    worker.started = time.monotonic()
                    worker.deadline = worker.started + self.timeout_s
                    try:
                        worker.conn.send((self._next_id, path, preview, instrument, timezone, preview_size, plugins))
                    except (OSError, ValueError):
                        pass  # found dead below
            yield from self._collect(bool(queue))

    def _collect(self, more_queued: bool) -> Iterator[FileResult]:
        now = time.monotonic()
        waiting = [w for w in self._workers if w.job is not None or (not w.ready and more_queued)]
        if not waiting:
            return
        deadlines = [w.deadline if w.job else w.started + STARTUP_TIMEOUT_S for w in waiting]
        timeout = max(0.0, min(deadlines) - now)
        handles: list[Any] = [w.conn for w in waiting] + [w.proc.sentinel for w in waiting]
        ready = set(wait(handles, timeout=timeout))
        for worker in waiting:
            result = self._check(worker, ready)
            if result is not None:
                yield result

    def _check(self, worker: _Worker, ready: set[Any]) -> FileResult | None:
        """Advance one worker: a message, a death or a missed deadline."""
        now = time.monotonic()
        if worker.conn in ready:
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                message = None
            if message is not None:
                if message[0] == "ready":
                    worker.ready = True
                    return None
                job_id, data = message
                worker.job = None
                return FileResult.from_dict(data)
        dead = worker.proc.sentinel in ready or (worker.conn in ready) or not worker.proc.is_alive()
        if dead:
            worker.proc.join(1)
            reason = _death_reason(worker.proc.exitcode)
        elif worker.job and now >= worker.deadline:
            reason = f"timed out after {self.timeout_s:g} s (worker killed and replaced)"
        elif not worker.job and not worker.ready and now >= worker.started + STARTUP_TIMEOUT_S:
            reason = "extraction worker did not start"
        else:
            return None
        job = worker.job
        self._replace(worker)
        if job is None:
            return None
        return _error_result(job[1], reason, now - worker.started)
