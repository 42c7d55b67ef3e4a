"""The file-store index: what is on each instrument's disk, kept in the DB.

Public API::

    scan(db, instrument, settings=None, full=False, force_dirs=()) -> ScanStats   # incremental
    scan_all(db, settings=None) -> list[ScanStats]
    watch(db, instrument, settings=None, stop_event=None)                        # watchdog, live
    find_session_files(sess, session, settings=None) -> list[IndexedFile]         # DB range query
    session_window(session, settings=None) -> (lo, hi) epoch seconds
"""

from nexuslims_kernel.files.lookup import find_files, find_session_files, indexed_by_relpath, session_window
from nexuslims_kernel.files.scan import ScanStats, resolve_store, scan, scan_all, store_names
from nexuslims_kernel.files.walk import is_ignored
from nexuslims_kernel.files.watch import watch, watch_all

__all__ = ["ScanStats", "find_files", "find_session_files", "indexed_by_relpath", "is_ignored", "resolve_store", "scan", "scan_all", "store_names", "session_window", "watch", "watch_all"]
