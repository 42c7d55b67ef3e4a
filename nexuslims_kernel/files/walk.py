"""What a scan sees on disk: one directory listing at a time, with our ignore rules.

Pure file-system code (no database) so it is easy to test and to time.
Symbolic links to folders are never followed (no loops, nothing outside the
root); a link to a file is indexed only when its target lies inside the root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

# Files being written or left behind by editors/copiers; never datasets.
IGNORED_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".swp", "~")
IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})


def is_ignored(name: str) -> bool:
    """Hidden, temporary and office lock files (``~$x.docx``) are not indexed."""
    lower = name.lower()
    return name.startswith((".", "~$")) or lower.endswith(IGNORED_SUFFIXES) or lower in IGNORED_NAMES


@dataclass
class Listing:
    """Files (name -> (size, mtime)) and sub-folders (name -> mtime_ns) of one folder."""

    files: dict[str, tuple[int, float]] = field(default_factory=dict)
    subdirs: dict[str, int] = field(default_factory=dict)


def join(parent: str, name: str) -> str:
    """POSIX relpath of ``name`` inside ``parent`` ("" is the root)."""
    return f"{parent}/{name}" if parent else name


def _inside(path: str, real_root: str) -> bool:
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def list_dir(abs_dir: str, real_root: str) -> Listing:
    """One ``os.scandir`` pass; entries that vanish mid-listing are skipped."""
    out = Listing()
    try:
        it = os.scandir(abs_dir)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return out
    with it:
        for entry in it:
            name = entry.name
            if is_ignored(name):
                continue
            try:
                if entry.is_symlink():
                    if entry.is_file() and _inside(entry.path, real_root):
                        st = entry.stat()  # the target's size and mtime
                        out.files[name] = (st.st_size, st.st_mtime)
                    continue
                if entry.is_dir(follow_symlinks=False):
                    out.subdirs[name] = entry.stat(follow_symlinks=False).st_mtime_ns
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    out.files[name] = (st.st_size, st.st_mtime)
            except OSError:
                continue  # removed or unreadable while we looked
    return out


def dir_mtime_ns(abs_dir: str) -> int | None:
    try:
        return os.stat(abs_dir, follow_symlinks=False).st_mtime_ns
    except OSError:
        return None
