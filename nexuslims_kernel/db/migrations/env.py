"""Alembic environment: runs against the connection handed over by migrate.py."""

from __future__ import annotations

from alembic import context

import nexuslims_kernel.db.record_facets  # noqa: F401 - registers the record_facets table on Base.metadata
from nexuslims_kernel.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from nexuslims_kernel.db.engine import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as connection:
            _run(connection)
        return
    _run(connection)


def _include(obj, name, type_, reflected, compare_to) -> bool:
    """Leave the full-text tables (created by raw DDL in 0002) out of autogenerate."""
    return not (type_ == "table" and str(name).startswith("records_fts"))


def _run(connection) -> None:
    context.configure(
        include_object=_include,
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTER via table copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
