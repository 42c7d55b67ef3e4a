"""Engines and sessions for SQLite (embedded default) and PostgreSQL, same code."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from nexuslims_kernel.errors import ConfigError, DatabaseError

T = TypeVar("T")


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
        self._engine_kwargs = engine_kwargs
        self._read_sessionmaker: sessionmaker | None = None
        self._read_lock = threading.Lock()

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

    def read(self, fn: Callable[[Session], T]) -> T:
        """``fn(session)`` for a read that needs no snapshot spanning statements (list pages, facets, lookups).

        On PostgreSQL it runs in autocommit on its own pool without pre-ping:
        one network round trip per statement instead of ping + BEGIN + query +
        COMMIT, which is most of a small request's cost under load. A pooled
        connection found dead (server restarted) is dropped and ``fn`` runs
        once more, which is safe because it only reads. SQLite reads are local
        and keep using :meth:`session`.
        """
        if self.dialect != "postgresql":
            with self.session() as sess:
                return fn(sess)
        maker = self._read_sessionmaker or self._make_read_sessionmaker()
        for attempt in (1, 2):
            sess = maker()
            try:
                return fn(sess)
            except DBAPIError as exc:
                sess.rollback()  # releases an invalidated connection, so close() and the retry start clean
                if attempt == 1 and exc.connection_invalidated:
                    continue
                if isinstance(exc, OperationalError):
                    raise DatabaseError(f"database {safe_url(self.url)} failed: {exc.orig}") from exc
                raise
            finally:
                sess.close()
        raise AssertionError("unreachable")

    def _make_read_sessionmaker(self) -> sessionmaker:
        with self._read_lock:
            if self._read_sessionmaker is None:
                kwargs = {**self._engine_kwargs, "pool_pre_ping": False, "isolation_level": "AUTOCOMMIT"}
                self._read_engine = make_engine(self.url, **kwargs)
                self._read_sessionmaker = sessionmaker(self._read_engine, expire_on_commit=False)
            return self._read_sessionmaker

    def dispose(self) -> None:
        self.engine.dispose()
        if self._read_sessionmaker is not None:
            self._read_engine.dispose()


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
