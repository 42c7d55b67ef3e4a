"""``nxhub db``: migrate and inspect the schema."""

from __future__ import annotations

import click

from nexuslims_kernel.cli.output import database_for, emit_one


@click.group()
def db() -> None:
    """Migrate or inspect the database schema."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def upgrade(ctx: click.Context, revision: str) -> None:
    """Migrate the database to the newest schema, keeping every row."""
    from nexuslims_kernel import db as dbmod

    database = database_for(ctx, check_schema=False)
    before = dbmod.current_revision(database)
    dbmod.upgrade(database, revision)
    emit_one(ctx, {"database": dbmod.safe_url(database.url), "from": before, "to": dbmod.current_revision(database)})


@db.command()
@click.argument("revision")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def downgrade(ctx: click.Context, revision: str, yes: bool) -> None:
    """Step the schema back to REVISION (e.g. 0001, or base). Columns added later are dropped."""
    from nexuslims_kernel import db as dbmod

    database = database_for(ctx, check_schema=False)
    if not yes:
        click.confirm(f"Downgrade {dbmod.safe_url(database.url)} to {revision}? Data in newer columns is lost.", abort=True)
    before = dbmod.current_revision(database)
    dbmod.downgrade(database, revision)
    emit_one(ctx, {"database": dbmod.safe_url(database.url), "from": before, "to": dbmod.current_revision(database)})


@db.command()
@click.pass_context
def current(ctx: click.Context) -> None:
    """Show the schema revision of the database and of the code."""
    from nexuslims_kernel import db as dbmod

    database = database_for(ctx, check_schema=False)
    have, want = dbmod.current_revision(database), dbmod.head_revision()
    emit_one(ctx, {"database": dbmod.safe_url(database.url), "current": have, "head": want, "up_to_date": have == want})
    if have != want:
        raise click.exceptions.Exit(3)
