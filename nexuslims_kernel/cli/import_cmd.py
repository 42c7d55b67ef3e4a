"""``nxhub import nexuslims``: move in from a NexusLIMS site (its database), with a progress bar and a report."""

from __future__ import annotations

from pathlib import Path

import click

from nexuslims_kernel.cli.output import database_for, dump_json, wants_json


@click.group(name="import")
def import_() -> None:
    """Bring instruments and sessions over from another system."""


def _print_report(report) -> None:
    verb = "would be" if report.dry_run else "was"
    version = f" ({report.version})" if report.version else ""
    click.echo(f"NexusLIMS {report.layout}{version} database {report.path}" + (" — dry run, nothing written" if report.dry_run else ""))
    for what, counts in (("instruments", report.instruments), ("sessions", report.sessions), ("records", report.records)):
        if what == "records" and not counts:
            continue
        parts = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "none"
        click.echo(f"  {what}: {parts}")
    if report.skipped:
        click.echo(f"not imported ({len(report.skipped)}; nothing of these {verb} written):")
        for item in report.skipped:
            click.echo(f"  {item['item']}: {item['reason']}")
    for item in report.notes:
        click.echo(f"note: {item['item']}: {item['note']}")


@import_.command(name="nexuslims")
@click.option("--db", "source", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The NexusLIMS SQLite database (NX_DB_PATH / nexusLIMS_db_path); opened read-only.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path),
              help="NexusLIMS's NX_INSTRUMENT_DATA_PATH (mmfnexus_path): instruments' filestore_path lie under it.")
@click.option("--records", type=click.Path(file_okay=False, path_type=Path),
              help="A folder of NexusLIMS record XML (validated against the XSD) to become these sessions' records.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.pass_context
def nexuslims(ctx: click.Context, source: Path, data_root: Path | None, records: Path | None, dry_run: bool) -> None:
    """Import a NexusLIMS (1.x or 2.x) database's instruments and sessions; running it again changes nothing."""
    from nexuslims_kernel.interop.nexuslims_import import import_nexuslims
    from nexuslims_kernel.interop.nexuslims_source import read_source

    read_source(source)  # a file that is not NexusLIMS fails here, in one line, before the hub's DB is opened
    db = database_for(ctx)
    if wants_json(ctx):
        report = import_nexuslims(db, source, data_root=data_root, records=records, dry_run=dry_run)
        dump_json(report.as_dict())
    else:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(transient=True, console=Console(stderr=True)) as bar:
            task = bar.add_task("importing", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"importing {stage}", completed=done, total=total)

            report = import_nexuslims(db, source, data_root=data_root, records=records, dry_run=dry_run,
                                      progress=progress)
        _print_report(report)
