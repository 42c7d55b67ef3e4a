"""``nxhub demo [--sessions N] [--no-build]``: a small demo facility with files and records."""

from __future__ import annotations

import click

from nexuslims_kernel.cli.output import dump_json, emit, settings_for, wants_json


@click.command()
@click.option(
    "--sessions",
    "n_sessions",
    type=click.IntRange(1, 200),
    default=8,
    show_default=True,
    help="How many demo sessions (8 = one week).",
)
@click.option("--no-build", is_flag=True, help="Only create rows and files; leave the sessions TO_BE_BUILT.")
@click.option("--force", is_flag=True, help="Merge into a database holding a facility the demo did not make (it stays unmarked).")
@click.pass_context
def demo(ctx: click.Context, n_sessions: int, no_build: bool, force: bool) -> None:
    """Create (or complete) the demo facility in the data directory; safe to run twice.

    Refuses a database holding anything without the demo's mark (a real facility, whatever its names) unless --force.
    """
    from nexuslims_kernel.demo import run_demo

    settings = settings_for(ctx)
    quiet = wants_json(ctx)
    summary = run_demo(
        settings,
        sessions=n_sessions,
        build=not no_build,
        force=force,
        progress=None if quiet else lambda m: click.echo(f"demo: {m}", err=True),
    )
    if quiet:
        dump_json(
            {
                "instruments": summary.instruments,
                "users": summary.users,
                "sessions": summary.sessions,
                "files": summary.files_written,
                "built": summary.built,
                "seconds": summary.seconds,
            }
        )
        return
    rows = [dict(s, start=s["start"].strftime("%Y-%m-%d %H:%M"), record=s["record_id"]) for s in summary.sessions]
    emit(
        ctx,
        rows,
        ["id", "instrument", "user", "start", "files", "status", "record", "access"],
        title="Demo sessions (start in UTC)",
    )
    emit(ctx, [dict(u, groups=", ".join(u["groups"]), admin="yes" if u["admin"] else "") for u in summary.users],
         ["username", "name", "groups", "admin"], title="Demo users")
    click.echo(
        f"{len(summary.sessions)} sessions, {summary.files_written} files under {settings.data_dir / 'demo-store'}"
        f"{'' if summary.built else ' (not built: run nxhub build)'}; {summary.seconds} s"
    )
