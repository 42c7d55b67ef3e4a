"""Turn stored relative paths into files on disk without ever leaving the store.

Relative paths in the database come from file names on instrument PCs and are
not trusted: absolute paths, ``..`` and symlinks that point outside the root
are refused (as *not found*, so probing learns nothing).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from nexuslims_kernel.errors import NotFoundError


def resolve_under(root: str | os.PathLike[str] | None, relpath: str | None) -> Path:
    """The real path of ``relpath`` inside ``root``; NotFoundError if outside, missing or not a file."""
    if not root or not relpath or "\x00" in relpath or relpath.startswith(("/", "\\")) or os.path.isabs(relpath):
        raise NotFoundError("file not found")
    real_root = os.path.realpath(root)
    candidate = os.path.realpath(os.path.join(real_root, relpath))
    if os.path.commonpath([real_root, candidate]) != real_root or candidate == real_root:
        raise NotFoundError("file not found")
    if not os.path.isfile(candidate):
        raise NotFoundError("file not found")
    return Path(candidate)


def archive_name(relpath: str) -> str:
    """A safe name inside a zip: no leading slash, no ``..`` (no zip-slip for the client)."""
    parts = [p for p in posixpath.normpath(relpath.replace("\\", "/")).split("/") if p not in ("", ".", "..")]
    return "/".join(parts) or "file"


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range, None for the whole file.

    Raises ValueError for an unsatisfiable or malformed range (HTTP 416).
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        raise ValueError("only a single bytes range is supported")
    first_s, _, last_s = spec.strip().partition("-")
    if first_s == "":
        n = int(last_s)
        if n <= 0 or size == 0:
            raise ValueError("empty suffix range")
        return max(0, size - n), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if first < 0 or first >= size or last < first:
        raise ValueError("range outside the file")
    return first, min(last, size - 1)
