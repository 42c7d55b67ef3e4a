"""``nxhub api``: run the REST API and issue personal API tokens."""

from __future__ import annotations

import click

from nexuslims_kernel.cli.output import database_for, emit, emit_one, settings_for, wants_json


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
@click.option("--expires", metavar="WHEN", help="Stop working after a duration (90d, 12h, 2w) or on a date (2027-01-31); default never.")
@click.pass_context
def create(ctx: click.Context, username: str, name: str, expires: str | None) -> None:
    """Create a token for USERNAME and print it once (only its hash is stored)."""
    from nexuslims_kernel.db.api_tokens import create_api_token, expiry_from

    expires_at = expiry_from(expires) if expires else None
    with database_for(ctx).session(write=True) as sess:
        value = create_api_token(sess, username, name, expires_at)
    if wants_json(ctx):
        emit_one(ctx, {"username": username, "name": name, "token": value,
                       "expires_at": expires_at.isoformat() if expires_at else None})
    else:
        click.echo(value)
        until = f"; it expires {expires_at.isoformat()}" if expires_at else ""
        click.echo(f"Token for {username} created{until}; it is shown only now. Use it as 'Authorization: Bearer <token>'.",
                   err=True)


@token.command("list")
@click.argument("username", required=False)
@click.pass_context
def list_tokens(ctx: click.Context, username: str | None) -> None:
    """List personal tokens (everyone's, or USERNAME's): id, label, created, expires, last used. Never their values."""
    from nexuslims_kernel.db.api_tokens import list_api_tokens

    with database_for(ctx).session() as sess:
        rows = list_api_tokens(sess, username)
    emit(ctx, rows, ["id", "username", "name", "created_at", "expires_at", "last_used_at"], title="Personal API tokens")


@token.command("revoke")
@click.argument("token_id", type=int, required=False)
@click.option("--user", "username", help="Revoke every token of this user (with TOKEN_ID: only if it is theirs).")
@click.pass_context
def revoke(ctx: click.Context, token_id: int | None, username: str | None) -> None:
    """Revoke token TOKEN_ID (see 'nxhub api token list'), or all of --user's tokens.

    Running API processes stop accepting it within 5 seconds (their token cache).
    """
    from nexuslims_kernel.db.api_tokens import revoke_api_tokens
    from nexuslims_kernel.errors import InvalidInputError, NotFoundError

    if token_id is None and username is None:
        raise InvalidInputError("give a TOKEN_ID or --user USERNAME (see 'nxhub api token list')")
    with database_for(ctx).session(write=True) as sess:
        ids = revoke_api_tokens(sess, token_id=token_id, username=username)
    if token_id is not None and not ids:
        raise NotFoundError(f"no token {token_id}" + (f" of {username}" if username else "") + " (see 'nxhub api token list')")
    if wants_json(ctx):
        emit_one(ctx, {"revoked": ids})
    else:
        click.echo(f"Revoked {len(ids)} token(s){': ' + ', '.join(map(str, ids)) if ids else ''}.", err=True)
