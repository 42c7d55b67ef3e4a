"""Turn stored relative paths into files on disk without ever leaving the store.

Relative paths in the database come from file names on instrument PCs and are
not trusted: absolute paths, ``..`` and symlinks that point outside the root
are refused (as *not found*, so probing learns nothing).
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path

from nexuslims_kernel.errors import NotFoundError
from nexuslims_kernel.records.text import safe_name


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
    """A safe name inside a zip: no leading slash, no ``..`` (no zip-slip), no raw control characters.

    Unsafe characters are percent-encoded as in the record's XML ``location``
    (:func:`~nexuslims_kernel.records.text.safe_name`), so ``unzip -l`` prints no
    terminal escapes and the member still names the file faithfully.
    """
    parts = [p for p in posixpath.normpath(relpath.replace("\\", "/")).split("/") if p not in ("", ".", "..")]
    return safe_name("/".join(parts)) or "file"


_BYTES_SPEC = re.compile(r"([0-9]*)-([0-9]*)")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``bytes=`` range, None to send the whole file.

    As RFC 9110 (section 14.2) allows, what is not supported is ignored: other
    units and multiple ranges get the whole file. A malformed or unsatisfiable
    bytes range raises ValueError (HTTP 416).
    """
    if not header:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _BYTES_SPEC.fullmatch(spec.strip())
    if match is None or match.group(1) == match.group(2) == "":
        raise ValueError("malformed bytes range")
    first_s, last_s = match.groups()
    if first_s == "":
        n = int(last_s)
        if n <= 0 or size == 0:
            raise ValueError("empty suffix range")
        return max(0, size - n), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if first >= size or last < first:
        raise ValueError("range outside the file")
    return first, min(last, size - 1)
