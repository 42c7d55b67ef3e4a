"""Schema migrations shipped in the package, run without an alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from nexuslims_kernel.db.engine import Database, safe_url
from nexuslims_kernel.errors import DatabaseError

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def current_revision(db: Database) -> str | None:
    """The schema revision the database is at (None for an empty database)."""
    try:
        with db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise DatabaseError(f"cannot open database {safe_url(db.url)}: {exc.orig}") from None


def _run(db: Database, fn, revision: str) -> None:
    cfg = _config(db)
    try:
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            fn(cfg, revision)
    except OperationalError as exc:
        raise DatabaseError(f"migration of {safe_url(db.url)} failed: {exc.orig}") from None


def upgrade(db: Database, revision: str = "head") -> None:
    _run(db, command.upgrade, revision)


def downgrade(db: Database, revision: str) -> None:
    _run(db, command.downgrade, revision)


def missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names when it does not exist yet (opening it would create it), else None."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def require_current(db: Database) -> None:
    """Refuse to work on a database whose schema is older or newer than the code."""
    have, want = current_revision(db), head_revision()
    if have is None:
        raise DatabaseError(f"database {safe_url(db.url)} is not initialised: run 'nxhub init'")
    if have != want:
        raise DatabaseError(f"database {safe_url(db.url)} is at revision {have}, the code needs {want}: "
                            "run 'nxhub db upgrade'")


def all_revisions() -> list[str]:
    """Every shipped revision, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]
