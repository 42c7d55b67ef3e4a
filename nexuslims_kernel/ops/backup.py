"""``nxhub backup``: one consistent, verifiable snapshot of a running hub.

What goes in: the database (see :mod:`.dbcopy`), the JupyterHub state
database, previews, exported records and, unless ``--no-secrets``, the
secrets encrypted with a passphrase (:mod:`.secretbox`). Instrument file
stores are not copied: they are the facility's raw data, backed up where they
live; fixity audits (:mod:`.fixity`) prove they are unchanged.

The database is copied first, then the files: a preview written after the
snapshot is harmless extra; one the snapshot names but a rebuild removed in
between is listed in the manifest's notes. Everything is written into
``<dest>.partial`` and renamed to ``<dest>`` when the manifest is complete, so
an interrupted backup never looks finished.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, select

from nexuslims_kernel import __version__
from nexuslims_kernel.config import Settings
from nexuslims_kernel.db import Database, current_revision
from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.ops import dbcopy, manifest, secretbox
from nexuslims_kernel.ops.manifest import Manifest, OpsIOError, Part, Progress

DB_SQLITE = "db/nxhub.sqlite"
DB_PG = "db/nxhub.pgdump"
HUB_DB = "hub/jupyterhub.sqlite"
SECRETS = "secrets.fernet"
#: (part kind, folder inside the backup)
TREES = (("preview", "previews"), ("record", "records"))


def _files(root: Path) -> Iterator[Path]:
    if root.is_dir():
        for dirpath, _dirs, names in os.walk(root):
            for name in sorted(names):
                if not name.endswith((".tmp", ".partial")):
                    yield Path(dirpath) / name


def _check_dest(dest: Path, settings: Settings) -> Path:
    dest = dest.expanduser().resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InvalidInputError(f"{dest} exists and is not empty; back up into a new folder")
    for source in (settings.data_dir, settings.previews_path, settings.records_path):
        if dest == source or source in dest.parents:
            raise InvalidInputError(f"{dest} is inside {source}, which is backed up; back up to another disk or folder")
    return dest


def backup(settings: Settings, db: Database, dest: Path, passphrase: str | None,
           progress: Progress | None = None) -> Manifest:
    """Write a backup of the configured hub to ``dest``; ``passphrase=None`` leaves secrets out."""
    dest = _check_dest(dest, settings)
    work = dest.with_name(dest.name + ".partial")
    umask = os.umask(0o077)  # a backup holds the database and sign-ins: readable by its owner only
    try:
        return _backup(settings, db, dest, work, passphrase, progress)
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)  # a failed backup leaves nothing that could be mistaken for one
        if isinstance(exc, OSError):
            raise OpsIOError.of("backup", exc) from None
        raise
    finally:
        os.umask(umask)


def _backup(settings: Settings, db: Database, dest: Path, work: Path, passphrase: str | None,
            progress: Progress | None) -> Manifest:
    say = progress or (lambda *_a: None)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, mode=0o700)
    info = Manifest(created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), nxhub_version=__version__,
                    schema_revision=current_revision(db), backend=db.dialect)
    parts: list[Part] = []

    def add(rel: str, kind: str) -> None:
        path = work / rel
        parts.append(Part(rel, kind, path.stat().st_size, manifest.sha256_file(path)))

    def look(conn: Connection) -> tuple[dict[str, int], set[str]]:
        return dbcopy.row_counts(conn), _preview_paths(conn)

    # 1. the database: one snapshot
    say("database", 0, 1)
    if db.dialect == "sqlite":
        dbcopy.sqlite_copy(dbcopy.sqlite_path(db.url), work / DB_SQLITE)
        info.row_counts, referenced = dbcopy.sqlite_read(work / DB_SQLITE, look)
        add(DB_SQLITE, "database")
    else:
        info.server_version, (info.row_counts, referenced) = dbcopy.pg_dump(db, work / DB_PG, settings.ops.pg_bin_dir, look)
        add(DB_PG, "database")
    say("database", 1, 1)
    # 2. JupyterHub's own state (users, servers, OAuth clients)
    hub_db = settings.data_dir / "hub" / "jupyterhub.sqlite"
    if hub_db.is_file():
        dbcopy.sqlite_copy(hub_db, work / HUB_DB)
        add(HUB_DB, "hub-state")
    # 3. previews and exported records
    for kind, folder in TREES:
        root = settings.previews_path if kind == "preview" else settings.records_path
        files = list(_files(root))
        for n, src in enumerate(files, 1):
            rel = f"{folder}/{src.relative_to(root).as_posix()}"
            try:
                size, digest = manifest.copy_hashed(src, work / rel)
            except FileNotFoundError:  # removed by a rebuild since it was listed
                continue
            parts.append(Part(rel, kind, size, digest))
            say(f"{folder}", n, len(files))
    copied = {p.path.removeprefix("previews/") for p in parts if p.kind == "preview"}
    gone = sorted(referenced - copied)
    if gone:
        info.notes.append(f"{len(gone)} preview(s) named in the database were removed before they were copied "
                          f"(rebuilt meanwhile), e.g. {gone[0]}")
    # 4. secrets
    names = secretbox.present(settings.data_dir)
    if passphrase is None:
        info.secrets = {"included": False, "left_out": names}
    elif names:
        token, kdf = secretbox.seal(settings.data_dir, names, passphrase)
        (work / SECRETS).write_bytes(token)
        add(SECRETS, "secrets")
        info.secrets = {"included": True, **kdf}
    info.parts = parts
    info.write(work)
    # 5. re-read what is on disk before calling it a backup
    manifest.verify(work, progress)
    if dest.exists():
        dest.rmdir()  # an empty folder the admin made for it
    os.replace(work, dest)
    return info


def _preview_paths(conn: Connection) -> set[str]:
    from nexuslims_kernel.db.models import Dataset

    return set(conn.scalars(select(Dataset.preview_path).where(Dataset.preview_path.is_not(None))))
