"""``nxhub up`` (what ``make run`` calls) and ``nxhub doctor``: the whole local hub, and its check-up.

``up`` prepares the data directory on first start (database, demo facility,
demo sign-ins) and then supervises JupyterHub (with the proxy, the API service
and the idle culler), a build worker and the file-index watcher until Ctrl-C
or SIGTERM (see :mod:`nexuslims_kernel.hub.supervisor`). ``--api-only`` keeps
the earlier API-without-hub mode.
"""

from __future__ import annotations

import dataclasses
import os
import sys

import click

from nexuslims_kernel.cli.output import settings_for


def _say(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()


def _banner(settings, logins: dict[str, str]) -> list[str]:
    from nexuslims_kernel.hub.components import DEMO_ADMIN, local_url
    from nexuslims_kernel.hub.logins import logins_path

    lines = [f"NexusLIMS Hub is up: {local_url(settings)}/"]
    if settings.hub.demo:
        lines.append("demo mode: sign in with any name, no password")
    elif logins and settings.hub.auth == "native":
        lines.append(f"demo sign-ins (also in {logins_path(settings.data_dir)}, mode 0600):")
        for name, password in logins.items():
            note = "  (admin: approves sign-ups at /hub/authorize)" if name == DEMO_ADMIN else ""
            lines.append(f"  {name:<8} {password}{note}")
    lines.append("Ctrl-C stops everything.")
    return lines


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Public port of the hub (default: setting hub.port, 8000).")
@click.option("--demo/--no-demo", default=True, show_default=True, help="Create the demo facility and sign-ins on first start.")
@click.option("--api-only", is_flag=True, help="Only the API and a build worker, without JupyterHub (the earlier 'up').")
@click.pass_context
def up(ctx: click.Context, port: int | None, demo: bool, api_only: bool) -> None:
    """Start the local hub (JupyterHub, API, build worker, file watcher); Ctrl-C stops it all."""
    if api_only:
        from nexuslims_kernel.cli.up_cmd import up as api_up

        ctx.invoke(api_up, port=port, demo=demo)
        return
    import logging

    from nexuslims_kernel.hub.components import components, first_start
    from nexuslims_kernel.hub.ports import busy_ports
    from nexuslims_kernel.hub.supervisor import Supervisor, run_until_signal

    logging.getLogger("httpx").setLevel(logging.WARNING)  # readiness probes are not news
    settings = _with_port(settings_for(ctx), port)
    busy = busy_ports(settings)
    if busy:
        from nexuslims_kernel.cli.ports import PortInUseError

        raise PortInUseError("; ".join(busy))
    say = lambda msg: _say(f"{'up':<9}| {msg}")  # noqa: E731
    isolation = _isolation(settings)
    os.umask(0o077)  # everything the hub, its services and the worker write is the hub account's alone
    logins = first_start(settings, say, demo=demo)
    say(("WARNING: people's servers are not isolated; isolation " if isolation.mode == "none" else "isolation ")
        + isolation.detail)
    supervisor = Supervisor(components(settings), _say)
    say(f"starting {', '.join(c.name for c in supervisor.components)} (data in {settings.data_dir})")
    run_until_signal(supervisor, on_ready=lambda: [say(line) for line in _banner(settings, logins)], essential={"hub"})
    say("stopped; no process left running")


def _isolation(settings):
    from nexuslims_kernel.hub.isolation import IsolationError, resolve

    try:
        return resolve(settings)
    except IsolationError as exc:
        raise click.ClickException(str(exc)) from None


def _with_port(settings, port: int | None):
    return settings if port is None else dataclasses.replace(settings, hub=dataclasses.replace(settings.hub, port=port))


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), help="Public port of the hub, if 'nxhub up' was given --port.")
@click.pass_context
def doctor(ctx: click.Context, port: int | None) -> None:
    """Check ports, proxy, Node, data dir, schema, file stores, hub and API; print a fix for each failure."""
    import logging

    from nexuslims_kernel.cli.output import dump_json, wants_json
    from nexuslims_kernel.hub.doctor import run_checks

    logging.getLogger("httpx").setLevel(logging.WARNING)
    checks = run_checks(_with_port(settings_for(ctx), port))
    if wants_json(ctx):
        dump_json([c.to_dict() for c in checks])
    else:
        for check in checks:
            click.echo(f"{'ok  ' if check.ok else 'FAIL'}  {check.name:<22} {check.detail}")
            if not check.ok:
                click.echo(f"      fix: {check.fix}")
        failed = sum(not c.ok for c in checks)
        click.echo(f"{failed} of {len(checks)} checks failed" if failed else f"all {len(checks)} checks passed")
    sys.exit(0 if all(c.ok for c in checks) else 1)
