"""Shared CLI plumbing: settings from the global options, tables or JSON out."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from nexuslims_kernel.config import Settings, get_settings, load_settings, set_settings


def settings_for(ctx: click.Context) -> Settings:
    """Settings with the ``--data-dir`` option applied (loaded once per process)."""
    root = ctx.find_root()
    obj = root.obj or {}
    if "settings" not in obj:
        data_dir = obj.get("data_dir")
        settings = load_settings(overrides={"data_dir": data_dir}) if data_dir else get_settings()
        set_settings(settings)
        obj["settings"] = settings
        root.obj = obj
    return obj["settings"]


def wants_json(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool((root.obj or {}).get("json"))


def _cell(value: Any) -> str:
    """Compact text for a table cell (full precision stays in --json)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(_jsonable(value))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "value") and not isinstance(value, (str, int, float)):
        return value.value  # enums
    return value


# The real stdout while a --json command runs (sys.stdout then points at stderr).
_JSON_STDOUT: list[Any] = []


@contextlib.contextmanager
def json_stdout() -> Any:
    """While a ``--json`` command runs, stdout carries only the JSON document.

    Libraries write to stdout behind our back (rosettasciio and HyperSpy give their
    loggers a ``StreamHandler(sys.stdout)``; some readers print): for the duration,
    ``sys.stdout`` is stderr, and :func:`dump_json` writes to the real stdout.
    """
    from nexuslims_kernel.logs import stdout_handlers_to_stderr

    stdout_handlers_to_stderr()
    real = sys.stdout
    _JSON_STDOUT.append(real)
    sys.stdout = sys.stderr
    try:
        yield
    finally:
        sys.stdout = real
        _JSON_STDOUT.pop()


def real_stdout() -> Any:
    """Where a command's own output goes: the real stdout, also while :func:`json_stdout` is active."""
    return _JSON_STDOUT[-1] if _JSON_STDOUT else sys.stdout


def dump_json(data: Any) -> None:
    out = real_stdout()
    click.echo(json.dumps(data, default=_jsonable, indent=2, ensure_ascii=False), file=out)


def emit(ctx: click.Context, rows: Sequence[dict[str, Any]], columns: Iterable[str], title: str | None = None) -> None:
    """Print rows as a rich table, or as a JSON list with ``--json``."""
    if wants_json(ctx):
        dump_json([{k: _jsonable(v) for k, v in row.items()} for row in rows])
        return
    from rich.console import Console
    from rich.table import Table

    cols = list(columns)
    table = Table(title=title, show_lines=False)
    for col in cols:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*[_cell(row.get(c)) for c in cols])
    Console(soft_wrap=True, width=None if sys.stdout.isatty() else 200).print(table)
    if not rows:
        click.echo("(none)")


def emit_one(ctx: click.Context, obj: dict[str, Any]) -> None:
    """Print one object as key: value lines, or as a JSON object with ``--json``."""
    if wants_json(ctx):
        dump_json({k: _jsonable(v) for k, v in obj.items()})
        return
    width = max((len(k) for k in obj), default=0)
    for key, value in obj.items():
        click.echo(f"{key.ljust(width)}  {'' if value is None else _jsonable(value)}")


def database_for(ctx: click.Context, check_schema: bool = True):
    """The configured database, refusing to run on an out-of-date schema.

    A SQLite file that does not exist yet is not created here (only ``nxhub init`` creates it).
    """
    from nexuslims_kernel.db import get_database, require_current
    from nexuslims_kernel.db.migrate import missing_sqlite_file
    from nexuslims_kernel.errors import DatabaseError

    url = settings_for(ctx).db_url
    if check_schema and missing_sqlite_file(url) is not None:
        raise DatabaseError(f"no database at {missing_sqlite_file(url)}: run 'nxhub init'")
    db = get_database(url)
    if check_schema:
        require_current(db)
    return db


def emit_listing(ctx: click.Context, model_name: str, columns: Iterable[str]) -> None:
    """Print a directory table (Instrument, Person, Group, Project) by name."""
    from nexuslims_kernel.db import models
    from nexuslims_kernel.db.directory import list_rows

    with database_for(ctx).session() as sess:
        rows = list_rows(sess, getattr(models, model_name))
    emit(ctx, rows, columns)
