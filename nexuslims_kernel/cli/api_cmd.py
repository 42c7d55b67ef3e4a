"""``nxhub api``: run the REST API and issue personal API tokens."""

from __future__ import annotations

import click

from nexuslims_kernel.cli.output import database_for, emit_one, settings_for, wants_json


@click.group()
def api() -> None:
    """Run the REST API service and manage API tokens."""


@api.command("serve")
@click.option("--host", help="Address to listen on (default: setting api.host).")
@click.option("--port", type=int, help="Port to listen on (default: setting api.port).")
@click.option("--processes", type=click.IntRange(1, 64),
              help="Worker processes sharing the port (default: setting api.processes, 0 = one per CPU).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, processes: int | None) -> None:
    """Serve the API until interrupted (standalone, or as a JupyterHub service with api.auth=jupyterhub)."""
    import logging
    import os

    from nexuslims_kernel.api.serve import serve as run
    from nexuslims_kernel.cli.ports import require_free_port

    settings = settings_for(ctx)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    host = host or settings.api.host
    port = settings.api.port if port is None else port
    require_free_port(host, port)
    processes = processes or settings.api.processes or (os.cpu_count() or 1)
    database_for(ctx).dispose()  # fail early on a bad database; workers open their own connections

    def announce(bound: int) -> None:
        click.echo(f"NexusLIMS Hub API on http://{host}:{bound}{settings.api.base_path.rstrip('/')}/api/v1/ "
                   f"(auth: {settings.api.auth}, processes: {processes})", err=True)

    run(settings, lambda: database_for(ctx), host, port, processes, announce)


@api.group("token")
def token() -> None:
    """Personal API tokens (standalone mode)."""


@token.command("create")
@click.argument("username")
@click.option("--name", default="", help="A label to recognise the token by, e.g. 'laptop'.")
@click.pass_context
def create(ctx: click.Context, username: str, name: str) -> None:
    """Create a token for USERNAME and print it once (only its hash is stored)."""
    from nexuslims_kernel.db.api_tokens import create_api_token

    with database_for(ctx).session(write=True) as sess:
        value = create_api_token(sess, username, name)
    if wants_json(ctx):
        emit_one(ctx, {"username": username, "name": name, "token": value})
    else:
        click.echo(value)
        click.echo(f"Token for {username} created; it is shown only now. Use it as 'Authorization: Bearer <token>'.", err=True)
