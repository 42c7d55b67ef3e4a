"""``nxhub instruments``: the microscopes the hub knows about."""

from __future__ import annotations

import json

import click

from nexuslims_kernel.cli.output import database_for, emit_listing, emit_one, wants_json
from nexuslims_kernel.errors import InvalidInputError

COLUMNS = ["id", "name", "location", "timezone", "filestore_root", "harvester", "has_token"]


def _settings_json(value: str | None) -> dict | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"--harvester-settings is not valid JSON: {exc.msg} at character {exc.pos}") from None
    if not isinstance(parsed, dict):
        raise InvalidInputError("--harvester-settings must be a JSON object, e.g. '{\"url\": \"...\"}'")
    return parsed


@click.group()
def instruments() -> None:
    """Add, list, edit instruments and issue Logger tokens."""


@instruments.command("add")
@click.argument("name")
@click.option("--timezone", "tz", default="UTC", show_default=True, help="IANA time zone of the instrument PC, e.g. Europe/Berlin.")
@click.option("--filestore", help="Where the instrument's files land: an absolute folder or s3://bucket/prefix (also gs://, az://).")
@click.option("--location", help="Room or building.")
@click.option("--display-name", help="Human-friendly name.")
@click.option("--harvester", default="none", show_default=True, help="none, nemo, ical or a plug-in harvester's name.")
@click.option("--harvester-settings", help="JSON object for the harvester (URL, tool id, ...).")
@click.pass_context
def add(ctx: click.Context, name: str, tz: str, filestore: str | None, location: str | None, display_name: str | None, harvester: str, harvester_settings: str | None) -> None:
    """Register instrument NAME."""
    from nexuslims_kernel.db.directory import add_instrument, check_filestore, instrument_row

    check_filestore(filestore)  # a bucket answers over the network: before the write transaction, not in it
    with database_for(ctx).session(write=True) as sess:
        inst = add_instrument(
            sess, name, timezone=tz, filestore_root=filestore, location=location, display_name=display_name,
            harvester=harvester, harvester_settings=_settings_json(harvester_settings),
        )
        row = instrument_row(inst)
    if not wants_json(ctx):
        click.echo(f"Added instrument {name!r} (id {row['id']}).")
        if row["filestore_root"] and row["filestore_root"].startswith("/"):
            from pathlib import Path

            if not Path(row["filestore_root"]).is_dir():
                click.echo(f"warning: {row['filestore_root']} does not exist yet; files are found once it does.", err=True)
        click.echo(f"Create a Logger token with: nxhub instruments token {name}")
        return
    emit_one(ctx, row)


@instruments.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List instruments."""
    emit_listing(ctx, "Instrument", COLUMNS)


@instruments.command("show")
@click.argument("name")
@click.pass_context
def show(ctx: click.Context, name: str) -> None:
    """Show one instrument."""
    from nexuslims_kernel.db.directory import get_instrument, instrument_row

    with database_for(ctx).session() as sess:
        inst = get_instrument(sess, name)
        from nexuslims_kernel.calendars.secrets import redacted

        row = instrument_row(inst) | {"harvester_settings": redacted(inst.harvester_settings)}
    emit_one(ctx, row)


@instruments.command("edit")
@click.argument("name")
@click.option("--rename", help="New name.")
@click.option("--timezone", "tz")
@click.option("--filestore", help="Absolute folder or s3://bucket/prefix; a bucket is checked before saving.")
@click.option("--location")
@click.option("--display-name")
@click.option("--harvester", help="none, nemo, ical or a plug-in harvester's name.")
@click.option("--harvester-settings")
@click.pass_context
def edit(ctx: click.Context, name: str, rename: str | None, tz: str | None, filestore: str | None, location: str | None, display_name: str | None, harvester: str | None, harvester_settings: str | None) -> None:
    """Change fields of instrument NAME (only the options given)."""
    from nexuslims_kernel.db.directory import check_filestore, edit_instrument, instrument_row

    changes = {
        "name": rename, "timezone": tz, "filestore_root": filestore, "location": location,
        "display_name": display_name, "harvester": harvester, "harvester_settings": _settings_json(harvester_settings),
    }
    changes = {k: v for k, v in changes.items() if v is not None}
    if not changes:
        raise InvalidInputError("nothing to change: give at least one option (see 'nxhub instruments edit --help')")
    check_filestore(filestore)  # as for add: the network check outside the write transaction
    with database_for(ctx).session(write=True) as sess:
        row = instrument_row(edit_instrument(sess, name, **changes))
    emit_one(ctx, row)


@instruments.command("token")
@click.argument("name")
@click.pass_context
def token(ctx: click.Context, name: str) -> None:
    """Issue a new Logger token for NAME (the old one stops working). Shown once."""
    from nexuslims_kernel.db.directory import issue_instrument_token

    with database_for(ctx).session(write=True) as sess:
        value = issue_instrument_token(sess, name)
    if wants_json(ctx):
        emit_one(ctx, {"instrument": name, "token": value})
        return
    click.echo(value)
    click.echo("Store this token in the Logger's settings on the instrument PC; it is not shown again.", err=True)
