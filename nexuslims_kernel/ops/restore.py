"""``nxhub restore``: a backup back into an empty data dir (and database), migrated to this nxhub.

Order: verify every part against the manifest and open the secrets first (a
corrupt backup or a wrong passphrase changes nothing), then the database, the
files, the secrets, then migrations forward and a row count against the
manifest. The SQLite files are written beside their target and renamed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from nexuslims_kernel.config import Settings
from nexuslims_kernel.db import Database, current_revision, reset_databases, upgrade
from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.ops import dbcopy, manifest, secretbox
from nexuslims_kernel.ops.backup import DB_PG, DB_SQLITE, HUB_DB, SECRETS, TREES
from nexuslims_kernel.ops.manifest import Manifest, OpsIOError, Progress

#: data-dir entries that do not make it "in use" (the admin may have prepared them for the restore)
PREPARED = {"nxhub.toml"}


@dataclass
class RestoreResult:
    schema_from: str | None
    schema_to: str | None
    files: int
    secrets: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _in_use(settings: Settings, db: Database) -> list[str]:
    """What already lives in the target: files in the data dir, previews, records, tables."""
    found = []
    for root in {settings.data_dir, settings.previews_path, settings.records_path}:
        if root.is_dir():
            for entry in root.iterdir():
                if entry.name in PREPARED or (entry.is_dir() and not any(entry.iterdir())):
                    continue
                found.append(str(entry))
    if db.dialect == "postgresql" and not dbcopy.is_empty(db):
        found.append(f"tables in {db.url.rsplit('/', 1)[-1].split('?')[0]}")
    elif db.dialect == "sqlite":  # database_url may name a file outside the data dir
        path = dbcopy.sqlite_path(db.url)
        if path.is_file() and path.stat().st_size:
            found.append(str(path))
    return sorted(set(found))


def _clear(settings: Settings, db: Database) -> None:
    """--force: remove what a restore replaces (never nxhub.toml, never instrument stores)."""
    for root in (settings.previews_path, settings.records_path, settings.data_dir / "hub"):
        shutil.rmtree(root, ignore_errors=True)
    if db.dialect == "postgresql":
        dbcopy.drop_everything(db)
    else:
        path = dbcopy.sqlite_path(db.url)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def restore(settings: Settings, db: Database, src: Path, passphrase: str | None, force: bool = False,
            progress: Progress | None = None) -> RestoreResult:
    """Restore ``src`` into the configured data dir and database; ``passphrase=None`` skips the secrets."""
    try:
        return _restore(settings, db, src, passphrase, force, progress)
    except OSError as exc:
        raise OpsIOError.of("restore", exc) from None


def _restore(settings: Settings, db: Database, src: Path, passphrase: str | None, force: bool,
             progress: Progress | None) -> RestoreResult:
    say = progress or (lambda *_a: None)
    src = src.expanduser().resolve()
    info = manifest.verify(src, progress)  # 1. nothing is touched before the backup proves whole
    if info.backend != db.dialect:
        raise InvalidInputError(f"this backup holds a {info.backend} database; the target is configured for {db.dialect} "
                                "(set database_url to match)")
    secrets: dict = {}
    if passphrase is not None and info.secrets.get("included"):
        secrets = secretbox.open_sealed((src / SECRETS).read_bytes(), info.secrets, passphrase)
    used = _in_use(settings, db)
    if used and not force:
        more = f" and {len(used) - 3} more" if len(used) > 3 else ""
        raise InvalidInputError(f"the target is not empty ({', '.join(used[:3])}{more}); restore into a fresh data dir "
                                "or pass --force to replace it")
    if used:
        _clear(settings, db)
    settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    mode = settings.data_dir.stat().st_mode & 0o777
    settings.data_dir.chmod(mode & ~0o007)  # it will hold the database and sign-ins (opening the DB may have made it 755)
    # 2. the database
    say("database", 0, 1)
    if db.dialect == "sqlite":
        db.dispose()
        target = dbcopy.sqlite_path(db.url)
        _sqlite_place(src / DB_SQLITE, target)
    else:
        dbcopy.pg_restore(db, src / DB_PG, settings.ops.pg_bin_dir)
    say("database", 1, 1)
    if (src / HUB_DB).is_file():
        _sqlite_place(src / HUB_DB, settings.data_dir / "hub" / "jupyterhub.sqlite")
    # 3. previews and exported records
    n = 0
    for kind, folder in TREES:
        root = settings.previews_path if kind == "preview" else settings.records_path
        root.mkdir(parents=True, exist_ok=True)
        parts = [p for p in info.parts if p.kind == kind]
        for i, part in enumerate(parts, 1):
            manifest.copy_hashed(src / part.path, root / part.path.removeprefix(folder + "/"), mode=0o666)
            say(folder, i, len(parts))
        n += len(parts)
    # 4. secrets
    if secrets:
        secretbox.write_secrets(settings.data_dir, secrets)
    # 5. this nxhub's schema, then every row the backup holds
    reset_databases()
    fresh = Database(db.url)
    try:
        before = current_revision(fresh)
        upgrade(fresh)
        with fresh.engine.connect() as conn:
            rows = dbcopy.row_counts(conn)
        after = current_revision(fresh)
    finally:
        fresh.dispose()
    short = [f"{t}: {rows.get(t, 0)} of {want}" for t, want in info.row_counts.items() if rows.get(t, 0) < want]
    if short:
        raise InvalidInputError(f"restored database is missing rows: {', '.join(short)}")
    notes = list(info.notes)
    if info.secrets.get("included") and not secrets:
        notes.append("secrets were not restored (--no-secrets): sign-ins and the hub's cookie secret start anew")
    return RestoreResult(before, after, n, sorted(secrets), rows, notes)


def _sqlite_place(backup_file: Path, target: Path) -> None:
    """Copy a backed-up SQLite file to ``target`` via a temp file and a rename; no stale WAL survives."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_name(target.name + ".restoring")
    tmp.unlink(missing_ok=True)
    dbcopy.sqlite_copy(backup_file, tmp)
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, target)


def verify_only(src: Path, progress: Progress | None = None) -> Manifest:
    return manifest.verify(src.expanduser().resolve(), progress)
