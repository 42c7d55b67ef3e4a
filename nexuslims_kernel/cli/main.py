"""The ``nxhub`` command: a click group whose sub-commands load on demand.

Sub-commands live in their own modules and are imported only when invoked,
so ``nxhub extract`` does not pay for SQLAlchemy and ``nxhub status`` does not
pay for HyperSpy. Expected failures (:class:`NxhubError`) print one line to
stderr and exit with the error's code; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from nexuslims_kernel import __version__
from nexuslims_kernel.errors import NxhubError
from nexuslims_kernel.startup import skip_slow_iri_check

skip_slow_iri_check()  # every nxhub process (API, worker, hub supervisor) starts a second sooner

# name -> "module:attribute" of a click command or group; imported lazily.
COMMANDS: dict[str, str] = {
    "api": "nexuslims_kernel.cli.api_cmd:api",
    "init": "nexuslims_kernel.cli.setup_cmd:init",
    "config": "nexuslims_kernel.cli.setup_cmd:config",
    "db": "nexuslims_kernel.cli.db_cmd:db",
    "status": "nexuslims_kernel.cli.setup_cmd:status",
    "instruments": "nexuslims_kernel.cli.instruments_cmd:instruments",
    "users": "nexuslims_kernel.cli.people_cmd:users",
    "groups": "nexuslims_kernel.cli.people_cmd:groups",
    "projects": "nexuslims_kernel.cli.people_cmd:projects",
    "sessions": "nexuslims_kernel.cli.sessions_cmd:sessions",
    "extract": "nexuslims_kernel.cli.extract_cmd:extract",
    "export": "nexuslims_kernel.cli.export_cmd:export",
    "records": "nexuslims_kernel.cli.records_cmd:records",
    "demo": "nexuslims_kernel.cli.demo_cmd:demo",
    "build": "nexuslims_kernel.cli.build_cmd:build",
    "worker": "nexuslims_kernel.cli.build_cmd:worker",
    "index": "nexuslims_kernel.cli.build_cmd:index",
    "up": "nexuslims_kernel.cli.hub_cmd:up",
    "doctor": "nexuslims_kernel.cli.hub_cmd:doctor",
    "pages": "nexuslims_kernel.cli.pages_cmd:pages",
    "harvest": "nexuslims_kernel.cli.harvest_cmd:harvest",
    "cluster": "nexuslims_kernel.cli.cluster_cmd:cluster",
    "backup": "nexuslims_kernel.cli.ops_cmd:backup",
    "restore": "nexuslims_kernel.cli.ops_cmd:restore",
    "fixity": "nexuslims_kernel.cli.ops_cmd:fixity",
    "import": "nexuslims_kernel.cli.import_cmd:import_",
    "publish": "nexuslims_kernel.cli.publish_cmd:publish",
}

HELP: dict[str, str] = {
    "api": "Run the REST API service and manage API tokens.",
    "init": "Create the data directory and an up-to-date database.",
    "config": "Show every setting, its value and where it comes from.",
    "db": "Migrate or inspect the database schema.",
    "status": "Summarise the hub: database, instruments, sessions by status.",
    "instruments": "Add, list, edit instruments and issue Logger tokens.",
    "users": "Add, edit and list people.",
    "groups": "Manage groups and their members.",
    "projects": "Add and list projects.",
    "sessions": "List and inspect instrument sessions.",
    "extract": "Extract metadata and thumbnails from EM files.",
    "export": "Export a record as Nexus XML, JSON, an RO-Crate zip or an .eln archive.",
    "records": "List, search and show built records (the API's filters).",
    "demo": "Create a small demo facility with sessions, files and records.",
    "build": "Build records of queued sessions now, with progress and a summary.",
    "worker": "Run a build worker: claim queued sessions and build them.",
    "index": "Update (or --watch) the file index of instrument file stores.",
    "up": "Start the local hub: JupyterHub, API, build worker and file watcher.",
    "doctor": "Check ports, proxy, Node, data dir, schema, file stores, hub and API; print fixes.",
    "pages": "Serve the Voilà pages (browse, record, instruments) for one person.",
    "harvest": "Harvest sessions and reservations from NEMO and iCalendar.",
    "cluster": "See and scale the hub on Kubernetes (pods, workers, build queue).",
    "backup": "Back up the running hub (database, hub state, previews, records, secrets) with a manifest.",
    "restore": "Restore a backup into an empty data dir, migrate it and check it.",
    "fixity": "Re-hash stored files of built records against their recorded sha256.",
    "import": "Move in from NexusLIMS: its instruments and sessions, idempotently.",
    "publish": "Hand a record on to CDCS or eLabFTW (idempotent by record id, with retries).",
}


def register(name: str, target: str, help_text: str) -> None:
    """Let a later stage add a lazily loaded sub-command."""
    COMMANDS[name] = target
    HELP[name] = help_text


class LazyGroup(click.Group):
    """A group that imports a sub-command's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nxhub")
@click.option("--data-dir", type=click.Path(file_okay=False), envvar="NXHUB_DATA_DIR", help="Data directory (default: NXHUB_DATA_DIR or ~/.local/share/nexuslims-hub).")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables.")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, as_json: bool) -> None:
    """NexusLIMS Hub: turn microscope sessions and files into searchable records."""
    ctx.ensure_object(dict)
    ctx.obj["json"] = as_json
    ctx.obj["data_dir"] = data_dir
    from nexuslims_kernel.cli.output import settings_for
    from nexuslims_kernel.logs import configure_logging

    configure_logging(settings_for(ctx).log_level)
    if as_json:
        from nexuslims_kernel.cli.output import json_stdout

        ctx.with_resource(json_stdout())


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning expected errors into one line and an exit code."""
    try:
        code = cli.main(args=argv, prog_name="nxhub", standalone_mode=False)
    except NxhubError as exc:
        click.echo(f"nxhub: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("nxhub: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("nxhub: interrupted", err=True)
        sys.exit(130)
    # Outside standalone mode click returns a command's ``Exit(code)`` instead of raising it.
    if isinstance(code, int) and not isinstance(code, bool) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
