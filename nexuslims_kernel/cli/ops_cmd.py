"""``nxhub backup``, ``nxhub restore`` and ``nxhub fixity``: operations with progress bars."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from nexuslims_kernel.cli.output import database_for, emit, emit_one, settings_for, wants_json

PASSPHRASE_ENV = "NXHUB_BACKUP_PASSPHRASE"


@contextlib.contextmanager
def stage_bars(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """One rich bar per stage name, fed by ``(stage, done, total)``; nothing with --json."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bars:
        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=max(total, 1))
            bars.update(tasks[stage], completed=done, total=max(total, 1))

        yield update


def _passphrase(ctx: click.Context, given: str | None, no_secrets: bool, confirm: bool) -> str | None:
    if no_secrets:
        return None
    if given:
        return given
    if wants_json(ctx) or not click.get_text_stream("stdin").isatty():
        from nexuslims_kernel.errors import InvalidInputError

        raise InvalidInputError(f"secrets need a passphrase: set {PASSPHRASE_ENV} or pass --no-secrets")
    return click.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm)


def _existing_database(ctx: click.Context):
    from nexuslims_kernel.db.migrate import current_revision, missing_sqlite_file
    from nexuslims_kernel.errors import DatabaseError

    missing = missing_sqlite_file(settings_for(ctx).db_url)
    if missing is not None:
        raise DatabaseError(f"no database at {missing}: nothing to back up")
    db = database_for(ctx, check_schema=False)
    if current_revision(db) is None:
        raise DatabaseError("the database is not initialised: nothing to back up")
    return db


_passphrase_option = click.option("--passphrase", "given", envvar=PASSPHRASE_ENV, hidden=True,
                                  help=f"Read from {PASSPHRASE_ENV} (never pass it on a command line).")


@click.command()
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--no-secrets", is_flag=True, help="Leave the hub's secrets out instead of encrypting them.")
@click.option("--verify", "verify_only", is_flag=True, help="Only re-read an existing backup at DEST and check its manifest.")
@_passphrase_option
@click.pass_context
def backup(ctx: click.Context, dest: Path, no_secrets: bool, verify_only: bool, given: str | None) -> None:
    """Back up the running hub to DEST: database, hub state, previews, records, secrets.

    Secrets are encrypted with a passphrase from NXHUB_BACKUP_PASSPHRASE (or a prompt).
    """
    from nexuslims_kernel.ops import backup as ops_backup
    from nexuslims_kernel.ops.manifest import verify

    if verify_only:
        with stage_bars(not wants_json(ctx)) as bar:
            info = verify(dest.expanduser().resolve(), bar)
        emit_one(ctx, {"backup": str(dest), "ok": True, "parts": len(info.parts), "created_at": info.created_at,
                       "schema": info.schema_revision, "secrets": info.secrets.get("included", False)})
        return
    settings = settings_for(ctx)
    db = _existing_database(ctx)  # any schema revision: backing up before 'nxhub db upgrade' is the point
    from nexuslims_kernel.ops.secretbox import present

    passphrase = _passphrase(ctx, given, no_secrets or not present(settings.data_dir), confirm=True)
    with stage_bars(not wants_json(ctx)) as bar:
        info = ops_backup.backup(settings, db, dest, passphrase, bar)
    emit_one(ctx, {"backup": str(dest.expanduser().resolve()), "backend": info.backend, "schema": info.schema_revision,
                   "parts": len(info.parts), "bytes": sum(p.size for p in info.parts), "rows": sum(info.row_counts.values()),
                   "secrets": "encrypted" if info.secrets.get("included") else "left out", "notes": "; ".join(info.notes)})


@click.command()
@click.argument("src", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a data dir (and database) that is not empty.")
@click.option("--no-secrets", is_flag=True, help="Do not restore the secrets (sign-ins and cookie secret start anew).")
@click.option("--verify", "verify_only", is_flag=True, help="Only check the backup against its manifest; change nothing.")
@_passphrase_option
@click.pass_context
def restore(ctx: click.Context, src: Path, force: bool, no_secrets: bool, verify_only: bool, given: str | None) -> None:
    """Restore a backup into this data dir and database, migrate it forward, then run the offline doctor checks."""
    from nexuslims_kernel.ops import restore as ops_restore

    if verify_only:
        ctx.invoke(backup, dest=src, no_secrets=True, verify_only=True, given=None)
        return
    settings = settings_for(ctx)
    db = database_for(ctx, check_schema=False)
    from nexuslims_kernel.ops.manifest import Manifest

    has_secrets = Manifest.load(src.expanduser().resolve()).secrets.get("included", False)
    passphrase = _passphrase(ctx, given, no_secrets or not has_secrets, confirm=False)
    with stage_bars(not wants_json(ctx)) as bar:
        result = ops_restore.restore(settings, db, src, passphrase, force=force, progress=bar)
    from nexuslims_kernel.hub.doctor import offline_checks

    checks = offline_checks(settings)
    failed = [c for c in checks if not c.ok]
    emit_one(ctx, {"restored": str(src), "schema_from": result.schema_from, "schema_to": result.schema_to,
                   "files": result.files, "rows": sum(result.rows.values()), "secrets": ", ".join(result.secrets) or "none",
                   "doctor": "ok" if not failed else "; ".join(f"{c.name}: {c.detail}" for c in failed),
                   "notes": "; ".join(result.notes)})
    if failed:
        raise click.exceptions.Exit(1)


@click.command()
@click.option("--share", type=click.FloatRange(0.0001, 1.0), help="Share of checksummed files to re-hash (default ops.fixity_share).")
@click.option("--all", "everything", is_flag=True, help="Re-hash every checksummed file of every record.")
@click.option("--rate", type=click.FloatRange(min=0), help="Read-rate limit in MB/s (default ops.fixity_rate_mb_s; 0 = none).")
@click.option("--failures", "list_failures", is_flag=True, help="Only list the files whose latest check failed.")
@click.pass_context
def fixity(ctx: click.Context, share: float | None, everything: bool, rate: float | None, list_failures: bool) -> None:
    """Re-hash stored files of built records against their sha256; report (never repair) mismatches."""
    from nexuslims_kernel.ops import fixity as audit

    settings = settings_for(ctx)
    db = database_for(ctx)
    if list_failures:
        rows = audit.failures(db)
    else:
        with stage_bars(not wants_json(ctx)) as bar:
            report = audit.run_audit(db, settings, share=1.0 if everything else share, rate_mb_s=rate, progress=bar)
        if not wants_json(ctx):
            click.echo(f"checked {report.checked} file(s), {report.bytes_read / 1e6:.1f} MB in {report.elapsed_s:.1f} s: "
                       f"{report.ok} ok, {len(report.failed)} failed", err=True)
        rows = report.failed
    if not rows and not wants_json(ctx):
        click.echo("no stored file failed its last fixity check")
        return
    emit(ctx, [r.to_dict() for r in rows], ("record", "dataset", "instrument", "relpath", "outcome", "detail", "checked_at"),
         title="Fixity failures")
    if rows:
        raise click.exceptions.Exit(1)
