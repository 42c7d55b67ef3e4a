"""``nxhub extract FILE...``: metadata and previews of EM files, for people and scripts.

One file is extracted in this process (no worker start-up cost, so a small
file answers in well under 2 s) with a SIGALRM wall-time limit; several files
go through the isolated :class:`~nexuslims_kernel.extract.ExtractionPool`.
Exit code: 0 when every file was extracted cleanly, 3 when any file or
signal has an error (the output still lists all files).
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import click

from nexuslims_kernel.cli.output import dump_json, json_stdout, settings_for, wants_json

EXIT_SOME_FAILED = 3


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout


def instrument_zone(settings: Any, instrument: str) -> str | None:
    """The time zone the hub knows ``instrument`` by (a profile's own ``timezone`` overrides it later).

    A name that is neither in the hub's database nor in the instrument profiles is a
    mistake (a typo would silently read naive times in the wrong zone): NotFoundError.
    """
    from nexuslims_kernel.errors import NotFoundError
    from nexuslims_kernel.extract.profiles import load_profiles

    known = instrument in load_profiles(settings.extract.profiles_file)
    zone = _zone_in_database(settings.db_url, instrument)
    if zone is None and not known:
        raise NotFoundError(f"no instrument named {instrument!r} in the hub or the instrument profiles "
                            "(see 'nxhub instruments list')")
    return zone


def _zone_in_database(url: str, instrument: str) -> str | None:
    """The instrument's zone, or None when the database is absent, not initialised or lacks it."""
    from sqlalchemy import select

    from nexuslims_kernel.db import current_revision, get_database, head_revision
    from nexuslims_kernel.db.migrate import missing_sqlite_file
    from nexuslims_kernel.db.models import Instrument
    from nexuslims_kernel.errors import DatabaseError

    if missing_sqlite_file(url) is not None:
        return None
    db = get_database(url)
    try:
        if current_revision(db) != head_revision():
            return None
    except DatabaseError:
        return None
    with db.session() as sess:
        return sess.scalar(select(Instrument.timezone).where(Instrument.name == instrument))


def _extract_one(path: str, preview: Path | None, instrument: str | None, timeout_s: float,
                 timezone: str | None = None) -> Any:
    from nexuslims_kernel.extract.core import extract_file
    from nexuslims_kernel.extract.pool import _error_result

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout_s)
    try:
        return extract_file(path, preview_dir=preview, instrument=instrument, timezone=timezone)
    except _Timeout:
        return _error_result(path, f"timed out after {timeout_s:g} s", timeout_s)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _extract_many(mains: list[str], preview: Path | None, instrument: str | None, workers: int | None,
                  timezone: str | None = None) -> list[Any]:
    from rich.progress import Progress

    from nexuslims_kernel.extract.pool import ExtractionPool

    results = []
    with Progress(transient=True, console=_stderr_console()) as progress, ExtractionPool(workers=workers) as pool:
        task = progress.add_task("extracting", total=len(mains))
        for result in pool.imap(mains, preview_dir=preview, instrument=instrument, timezone=timezone):
            results.append(result)
            progress.advance(task)
    order = {p: i for i, p in enumerate(mains)}
    return sorted(results, key=lambda r: order.get(r.path, 0))


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _summary(results: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for col in ("file", "format", "#", "type", "acquired", "shape", "status"):
        table.add_column(col)
    for res in results:
        rows = res.datasets or [None]
        for ds in rows:
            warnings = len(res.warnings) + (len(ds.warnings) if ds else 0)
            status = res.error or (ds.error if ds else None) or (f"ok ({warnings} warnings)" if warnings else "ok")
            table.add_row(Path(res.path).name, res.format, "" if ds is None else str(ds.index),
                          "" if ds is None else ds.dataset_type,
                          "" if ds is None else str(ds.metadata.get("acquisition_time") or ""),
                          "" if ds is None else "x".join(map(str, ds.shape)), status)
    Console(soft_wrap=True).print(table)


@click.command("extract")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (a list, one object per file).")
@click.option("--preview", "preview", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write PNG thumbnails into this directory.")
@click.option("--instrument", default=None,
              help="Instrument name (in the hub or the profiles): its time zone for naive times, its profile's fixes.")
@click.option("--workers", type=int, default=None, help="Worker processes for several files (default: settings).")
@click.pass_context
def extract(ctx: click.Context, files: tuple[str, ...], as_json: bool, preview: Path | None,
            instrument: str | None, workers: int | None) -> None:
    """Extract metadata and previews from EM files (companion files are folded into their main file)."""
    from nexuslims_kernel.extract.companions import split_companions

    settings = settings_for(ctx)
    if as_json and not wants_json(ctx):
        ctx.with_resource(json_stdout())
    zone = instrument_zone(settings, instrument) if instrument else None
    mains = list(split_companions(files))
    if len(mains) == 1:
        results = [_extract_one(mains[0], preview, instrument, settings.extract.timeout_s, zone)]
    else:
        results = _extract_many(mains, preview, instrument, workers, zone)
    if as_json or wants_json(ctx):
        dump_json([r.to_dict() for r in results])
    else:
        _summary(results)
    if not all(r.ok for r in results):
        sys.exit(EXIT_SOME_FAILED)  # click.Context.exit is swallowed in non-standalone mode
