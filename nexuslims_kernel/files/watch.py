"""Keep the index live: watchdog reports which folders changed, a short incremental scan follows.

Events only name folders to re-list (``force_dirs``), so a burst of writes
becomes one scan, and files still being written are picked up once they
settle (their folder stays marked until then).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

from nexuslims_kernel.config import Settings, get_settings
from nexuslims_kernel.db.engine import Database
from nexuslims_kernel.errors import NxhubError
from nexuslims_kernel.files.scan import ScanStats, StoreRef, resolve_store, scan, store_names

log = logging.getLogger(__name__)


class _DirtyFolders:
    """Thread-safe set of folder relpaths reported by the observer."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.dirs: set[str] = set()
        self.event = threading.Event()

    def add_path(self, path: str, is_dir: bool) -> None:
        folder = path if is_dir else os.path.dirname(path)
        rel = os.path.relpath(folder, self.root)
        if rel.startswith(".."):
            return
        rel = "" if rel == "." else rel.replace(os.sep, "/")
        with self.lock:
            self.dirs.add(rel)
            if rel:  # a new or moved folder also changes its parent's listing
                self.dirs.add(rel.rpartition("/")[0])
        self.event.set()

    def take(self) -> set[str]:
        with self.lock:
            out, self.dirs = self.dirs, set()
            self.event.clear()
            return out


def _poll(db: Database, store: StoreRef, settings: Settings, stop: threading.Event,
          on_scan: Callable[[ScanStats], None] | None) -> None:
    """Scan a bucket store every ``files.poll_s`` until ``stop``; a failed scan is logged and tried again."""
    while not stop.is_set():
        try:
            stats = scan(db, store.id, settings)
        except NxhubError as exc:
            log.warning("scan of %s failed, trying again in %.0f s: %s", store.name, settings.files.poll_s, exc)
        else:
            log.debug("poll %s: %s", store.name, stats.to_dict())
            if on_scan:
                on_scan(stats)
        stop.wait(settings.files.poll_s)


def watch(
    db: Database,
    instrument: str | int,
    settings: Settings | None = None,
    stop_event: threading.Event | None = None,
    on_scan: Callable[[ScanStats], None] | None = None,
    debounce_s: float = 0.5,
) -> None:
    """Scan once, then re-scan changed folders until ``stop_event`` is set."""
    from watchdog.events import FileSystemEventHandler
    from watchdog.observers import Observer

    settings = settings or get_settings()
    stop = stop_event or threading.Event()
    store = resolve_store(db, instrument)
    if store.is_object:  # a bucket has no file-system events here: poll it (notifications are a later step)
        _poll(db, store, settings, stop, on_scan)
        return
    dirty = _DirtyFolders(store.root)

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event) -> None:
            if event.event_type in ("opened", "closed_no_write"):
                return
            dirty.add_path(event.src_path, event.is_directory)
            dest = getattr(event, "dest_path", "")
            if dest:
                dirty.add_path(dest, event.is_directory)

    observer = Observer()
    observer.schedule(Handler(), store.root, recursive=True)
    observer.start()
    try:
        stats = scan(db, store.id, settings)
        if on_scan:
            on_scan(stats)
        pending = stats.unsettled > 0
        recheck = max(settings.build.settle_s, debounce_s)
        while not stop.is_set():
            woke = dirty.event.wait(recheck if pending else 1.0)
            if stop.is_set():
                break
            if not woke and not pending:
                continue
            stop.wait(debounce_s)  # let a burst of events collect
            stats = scan(db, store.id, settings, force_dirs=dirty.take())
            pending = stats.unsettled > 0
            log.debug("watch %s: %s", store.name, stats.to_dict())
            if on_scan:
                on_scan(stats)
    finally:
        observer.stop()
        observer.join(5)


def watch_all(
    db: Database,
    settings: Settings | None = None,
    stop_event: threading.Event | None = None,
    on_scan: Callable[[ScanStats], None] | None = None,
    on_error: Callable[[str, Exception], None] | None = None,
    debounce_s: float = 0.5,
) -> list[str]:
    """Watch every instrument's file store, one thread each, until ``stop_event`` is set.

    A store that cannot be watched (missing folder, unreachable share) is
    reported through ``on_error`` and the others keep going. Returns the
    names watched.
    """
    stop = stop_event or threading.Event()
    names = store_names(db)

    def run(name: str) -> None:
        try:
            watch(db, name, settings, stop, on_scan, debounce_s)
        except (NxhubError, OSError) as exc:
            log.error("cannot watch the file store of %s: %s", name, exc)
            if on_error:
                on_error(name, exc)

    threads = [threading.Thread(target=run, args=(name,), name=f"watch-{name}", daemon=True) for name in names]
    for thread in threads:
        thread.start()
    try:
        while any(t.is_alive() for t in threads) and not stop.is_set():
            stop.wait(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    return names
