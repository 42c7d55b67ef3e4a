"""A backup's manifest: every part with its size and sha256, so a corrupt part is named, not guessed.

A backup is a folder: ``manifest.json`` plus parts under it. The manifest is
written last (after every part is on disk and fsynced), so a folder without
one is an unfinished backup.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from nexuslims_kernel.errors import InvalidInputError, NxhubError

FORMAT = "nxhub-backup"
VERSION = 1
NAME = "manifest.json"
READ_SIZE = 1 << 20

Progress = Callable[[str, int, int], None]


class CorruptBackupError(InvalidInputError):
    """A backup part is missing or does not have the bytes the manifest recorded."""

    exit_code = 65  # EX_DATAERR


class OpsIOError(NxhubError):
    """A file could not be read or written during a backup or restore (disk full, I/O error, permissions)."""

    exit_code = 74  # EX_IOERR

    @classmethod
    def of(cls, what: str, exc: OSError) -> OpsIOError:
        where = f"{exc.filename}: " if exc.filename else ""
        return cls(f"{what} failed: {where}{exc.strerror or exc}")


@dataclass
class Part:
    path: str  # POSIX, relative to the backup folder
    kind: str  # database | hub-state | preview | record | secrets
    size: int
    sha256: str


@dataclass
class Manifest:
    created_at: str
    nxhub_version: str
    schema_revision: str | None
    backend: str  # sqlite | postgresql
    server_version: str = ""
    row_counts: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)  # {"included": bool, "kdf": {...}}
    notes: list[str] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "version": VERSION, **asdict(self)}, indent=1, sort_keys=True)

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / NAME
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise InvalidInputError(f"{folder} is not an nxhub backup (no {NAME}; an unfinished backup has none)") from None
        except (OSError, ValueError) as exc:
            raise CorruptBackupError(f"{path} cannot be read: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CorruptBackupError(f"{path} is not an nxhub backup manifest")
        if data.get("version") != VERSION:
            raise InvalidInputError(f"{path} is backup format {data.get('version')}; this nxhub reads format {VERSION}")
        parts = [Part(**p) for p in data.pop("parts", [])]
        data.pop("format"), data.pop("version")
        return cls(**data, parts=parts)

    def write(self, folder: Path) -> None:
        tmp = folder / (NAME + ".tmp")
        with tmp.open("w") as fh:
            fh.write(self.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / NAME)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(READ_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def copy_hashed(src: Path, dst: Path, mode: int = 0o600) -> tuple[int, str]:
    """Copy ``src`` to ``dst`` (fsynced, created with ``mode`` less the umask) hashing the bytes; returns (size, sha256)."""
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest, size = hashlib.sha256(), 0
    with src.open("rb") as fin, os.fdopen(os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as fout:
        while True:
            try:
                chunk = fin.read(READ_SIZE)
            except OSError as exc:  # name the file in the one-line error (a read error carries no name)
                exc.filename = exc.filename or str(src)
                raise
            if not chunk:
                break
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    st = src.stat()
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))  # times, not modes: backup parts are the owner's only
    return size, digest.hexdigest()


def verify(folder: Path, progress: Progress | None = None) -> Manifest:
    """Re-read every part; raise :class:`CorruptBackupError` naming the first bad one(s)."""
    manifest = Manifest.load(folder)
    bad: list[str] = []
    for n, part in enumerate(manifest.parts, 1):
        path = folder / part.path
        try:
            ok = path.stat().st_size == part.size and sha256_file(path) == part.sha256
            reason = "" if ok else "sha256 differs from the manifest"
        except FileNotFoundError:
            ok, reason = False, "missing"
        if not ok:
            bad.append(f"{part.path} ({reason})")
        if progress:
            progress("verify", n, len(manifest.parts))
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise CorruptBackupError(f"backup {folder} is corrupt: {', '.join(bad[:3])}{more}")
    return manifest
