"""``nxhub up``: the whole local hub in one command (what ``make run`` calls).

Today that is: an up-to-date database, the demo facility on first start, a
build worker process, and the API on http://127.0.0.1:8000. Later stages add
JupyterHub and the Voilà pages in front of the same pieces.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from nexuslims_kernel.cli.output import settings_for


def _demo_tokens(settings, db) -> Path:
    """Personal API tokens for the demo users, written once to a private file."""
    from nexuslims_kernel.db.api_tokens import create_api_token

    path = settings.data_dir / "demo-tokens.txt"
    if path.exists():
        return path
    lines = ["# API tokens for the demo users (curl -H 'Authorization: Bearer <token>' ...)"]
    with db.session(write=True) as sess:
        from sqlalchemy import select

        from nexuslims_kernel.db.models import Person

        for person in sess.scalars(select(Person).order_by(Person.username)):
            lines.append(f"{person.username}{' (admin)' if person.is_admin else ''}: {create_api_token(sess, person.username, 'demo')}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


@click.command()
@click.option("--host", help="Address to listen on (default: setting api.host, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: setting api.port, 8000).")
@click.option("--demo/--no-demo", default=True, show_default=True, help="Create the demo facility when the database has no instruments.")
@click.option("--worker/--no-worker", default=True, show_default=True, help="Run a build worker beside the API.")
@click.pass_context
def up(ctx: click.Context, host: str | None, port: int | None, demo: bool, worker: bool) -> None:
    """Start the local hub: database, demo data, build worker and API. Ctrl-C stops it all."""
    import asyncio

    from nexuslims_kernel import db as dbmod
    from nexuslims_kernel.cli.ports import require_free_port
    from nexuslims_kernel.db.directory import count
    from nexuslims_kernel.db.models import Instrument, Person

    settings = settings_for(ctx)
    host = host or settings.api.host
    port = settings.api.port if port is None else port
    require_free_port(host, port)  # before anything starts
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = dbmod.get_database(settings.db_url)
    dbmod.upgrade(database)
    say = lambda msg: click.echo(f"nxhub up: {msg}", err=True)  # noqa: E731
    with database.session() as sess:
        empty = count(sess, Instrument) == 0 and count(sess, Person) == 0  # the demo never merges into a facility
    if demo and empty:
        from nexuslims_kernel.demo import run_demo

        say("first start: creating the demo facility (a minute at most)")
        summary = run_demo(settings, progress=lambda m: say(f"demo: {m}"))
        say(f"demo: {len(summary.sessions)} sessions, {summary.files_written} files, built in {summary.seconds} s")
        say(f"demo API tokens are in {_demo_tokens(settings, database)}")

    children: list[subprocess.Popen] = []
    if worker:
        env = dict(os.environ, NXHUB_DATA_DIR=str(settings.data_dir))
        children.append(subprocess.Popen([sys.executable, "-m", "nexuslims_kernel.cli.main", "worker"], env=env))
        say(f"build worker started (pid {children[-1].pid})")

    from nexuslims_kernel.api import make_app, make_server

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        server, bound = make_server(make_app(settings, database), host=host, port=port)
        say(f"API on http://{host}:{bound}/api/v1/  (OpenAPI: /api/v1/openapi.json); Ctrl-C to stop")
        await stop.wait()
        server.stop()

    try:
        asyncio.run(serve())
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        say("stopped")
