"""``nxhub init``, ``nxhub config`` and ``nxhub status``: set up and look around."""

from __future__ import annotations

import click

from nexuslims_kernel.cli.output import database_for, emit, emit_one, settings_for, wants_json


@click.command()
@click.option("--database-url", help="Use this database instead of SQLite in the data directory (written to nxhub.toml).")
@click.pass_context
def init(ctx: click.Context, database_url: str | None) -> None:
    """Create the data directory and bring the database schema up to date.

    Safe to run again: an existing database is migrated, never emptied.
    """
    from nexuslims_kernel import db as dbmod
    from nexuslims_kernel.config import load_settings, set_settings

    settings = settings_for(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    toml_path = settings.data_dir / "nxhub.toml"
    if database_url:
        import tomli_w

        existing = {}
        if toml_path.is_file():
            import tomllib

            existing = tomllib.loads(toml_path.read_text())
        existing["database_url"] = database_url
        toml_path.write_text(tomli_w.dumps(existing))
        settings = load_settings(overrides={"data_dir": str(settings.data_dir)})
        set_settings(settings)
        ctx.find_root().obj["settings"] = settings
    for path in (settings.previews_path, settings.records_path):
        path.mkdir(parents=True, exist_ok=True)
    db = dbmod.get_database(settings.db_url)
    before = dbmod.current_revision(db)
    dbmod.upgrade(db)
    after = dbmod.current_revision(db)
    info = {
        "data_dir": str(settings.data_dir),
        "database": dbmod.safe_url(settings.db_url),
        "schema_before": before,
        "schema_now": after,
    }
    if wants_json(ctx):
        emit_one(ctx, info)
        return
    click.echo(f"Data directory: {settings.data_dir}")
    click.echo(f"Database:       {info['database']} (schema {before or 'empty'} -> {after})")
    click.echo("Next: nxhub instruments add NAME --timezone Europe/Berlin --filestore /path/to/data")


@click.command()
@click.pass_context
def config(ctx: click.Context) -> None:
    """Show every setting with its current value and its environment variable."""
    from nexuslims_kernel.config.settings import secret_settings, settings_table

    settings = settings_for(ctx)
    rows = []
    secrets = {f"{s}.{n}" for s, n in secret_settings()}
    for key, env, default, doc in settings_table():
        secret = key in secrets
        section, _, name = key.partition(".")
        value = getattr(getattr(settings, section), name) if name else getattr(settings, key)
        if key == "database_url":
            from nexuslims_kernel.db import safe_url

            value = safe_url(settings.db_url)
        elif secret and value:
            value = "***"
        rows.append({"setting": key, "value": value, "env": env, "default": default, "description": doc})
    emit(ctx, rows, ["setting", "value", "env", "description"])


@click.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Database, schema, instruments and sessions by status at a glance."""
    from sqlalchemy import func, select

    from nexuslims_kernel import db as dbmod
    from nexuslims_kernel.db.directory import count
    from nexuslims_kernel.db.migrate import missing_sqlite_file
    from nexuslims_kernel.db.models import Instrument, InstrumentSession, Person, Record

    settings = settings_for(ctx)
    info: dict = {"data_dir": str(settings.data_dir), "database": dbmod.safe_url(settings.db_url)}
    if missing_sqlite_file(settings.db_url) is not None:  # opening it would create it
        have, want = None, dbmod.head_revision()
    else:
        db = database_for(ctx, check_schema=False)
        have, want = dbmod.current_revision(db), dbmod.head_revision()
    info["schema"] = "not initialised" if have is None else have
    info["schema_ok"] = have == want
    if have == want:
        with db.session() as sess:
            info["instruments"] = count(sess, Instrument)
            info["users"] = count(sess, Person)
            info["records"] = count(sess, Record)
            rows = sess.execute(select(InstrumentSession.status, func.count()).group_by(InstrumentSession.status)).all()
            info["sessions"] = {status: n for status, n in sorted(rows)}
    emit_one(ctx, info)
    if have != want:
        hint = "run 'nxhub init'" if have is None else "run 'nxhub db upgrade'"
        click.echo(f"nxhub: the database is {info['schema'] if have is None else 'at an older or newer schema'}: {hint}",
                   err=True)
        raise click.exceptions.Exit(3)
