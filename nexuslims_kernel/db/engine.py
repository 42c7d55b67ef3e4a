"""Engines and sessions for SQLite (embedded default) and PostgreSQL, same code."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from nexuslims_kernel.errors import ConfigError, DatabaseError


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the API read while a worker writes; busy_timeout turns lock
    # contention into a short wait instead of an immediate "database is locked".
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Take the write lock at BEGIN so two writers queue instead of deadlocking
    # on a read-to-write upgrade (pysqlite's default defers BEGIN).
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("sqlite_immediate") else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with our per-backend settings."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database_url {url!r} is not a valid SQLAlchemy URL") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30, "isolation_level": None}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", 10)
        return create_engine(parsed, **kwargs)
    raise ConfigError(f"database backend {parsed.get_backend_name()!r} is not supported; use SQLite or PostgreSQL")


def safe_url(url: str) -> str:
    """The URL with any password hidden, for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid url>"


class Database:
    """An engine plus a session factory; one per process and URL."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessionmaker = sessionmaker(self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextlib.contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """A transaction: commit on success, roll back on error.

        ``write=True`` takes SQLite's write lock up front (BEGIN IMMEDIATE) for
        read-modify-write work such as claiming a session.
        """
        sess = (self._write_sessionmaker if write else self.sessionmaker)()
        try:
            yield sess
            sess.commit()
        except OperationalError as exc:
            sess.rollback()
            raise DatabaseError(f"database {safe_url(self.url)} failed: {exc.orig}") from exc
        except BaseException:
            sess.rollback()
            raise
        finally:
            sess.close()

    def dispose(self) -> None:
        self.engine.dispose()


_databases: dict[str, Database] = {}
_lock = threading.Lock()


def get_database(url: str | None = None) -> Database:
    """The shared :class:`Database` for ``url`` (default: the configured one)."""
    if url is None:
        from nexuslims_kernel.config import get_settings

        url = get_settings().db_url
    with _lock:
        db = _databases.get(url)
        if db is None:
            db = _databases[url] = Database(url)
        return db


def reset_databases() -> None:
    """Dispose cached engines (tests, after fork)."""
    with _lock:
        for db in _databases.values():
            db.dispose()
        _databases.clear()
