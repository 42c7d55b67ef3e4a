"""``nxhub sessions end|edit|cancel|approve``: undo mistakes, under the rules every source obeys.

The rules themselves live in :mod:`nexuslims_kernel.sessions.admin` and
:mod:`nexuslims_kernel.sessions.review`; these commands only parse options.
"""

from __future__ import annotations

import datetime as dt

import click

from nexuslims_kernel.cli.output import database_for, emit_one
from nexuslims_kernel.cli.sessions_cmd import parse_when, session_row


def _when(sess, session_id: int, value: str | None, what: str) -> dt.datetime | None:
    from nexuslims_kernel.sessions.admin import get_session

    return parse_when(value, get_session(sess, session_id).instrument.timezone, what)


def _show(ctx: click.Context, sess, session_id: int) -> None:
    from nexuslims_kernel.sessions.admin import get_session

    s = get_session(sess, session_id)
    sess.refresh(s)
    emit_one(ctx, session_row(s))


@click.command("end")
@click.argument("session_id", type=int)
@click.option("--at", help="ISO date/time of the end (naive: the instrument's time zone); default now.")
@click.pass_context
def end(ctx: click.Context, session_id: int, at: str | None) -> None:
    """End an open session; it is then queued (or waits for review when too long)."""
    from nexuslims_kernel.sessions.admin import end_session

    with database_for(ctx).session(write=True) as sess:
        when = _when(sess, session_id, at, "--at") or dt.datetime.now(dt.UTC)
        end_session(sess, session_id, when, actor="cli")
        _show(ctx, sess, session_id)


@click.command("edit")
@click.argument("session_id", type=int)
@click.option("--start", help="New start (ISO; naive: the instrument's time zone).")
@click.option("--end", help="New end (ISO; naive: the instrument's time zone).")
@click.option("--user", help="New user ('' for none).")
@click.option("--project", help="New project ('' for none); the user must belong to it.")
@click.option("--group", help="Group for the record when the project names none ('' for none).")
@click.option("--title", help="New reservation title ('' for none).")
@click.option("--note", help="New note ('' for none).")
@click.pass_context
def edit(ctx: click.Context, session_id: int, **options: str | None) -> None:
    """Correct a session; a built one is queued again and its record keeps its id."""
    from nexuslims_kernel.sessions.admin import edit_session

    with database_for(ctx).session(write=True) as sess:
        changes: dict = {k: v for k, v in options.items() if v is not None}
        for key in ("start", "end"):
            if key in changes:
                changes[key] = _when(sess, session_id, changes[key], f"--{key}")
        edit_session(sess, session_id, changes, actor="cli")
        _show(ctx, sess, session_id)


@click.command("cancel")
@click.argument("session_id", type=int)
@click.option("--reason", default="cancelled by an admin", show_default=True)
@click.option("--delete-record", is_flag=True, help="Also delete the session's record, if it was built.")
@click.pass_context
def cancel(ctx: click.Context, session_id: int, reason: str, delete_record: bool) -> None:
    """Cancel a session entered by mistake (it is never built and blocks no other session)."""
    from nexuslims_kernel.sessions.admin import cancel_session

    with database_for(ctx).session(write=True) as sess:
        cancel_session(sess, session_id, actor="cli", reason=reason, delete_record=delete_record)
        _show(ctx, sess, session_id)


@click.command("approve")
@click.argument("session_id", type=int)
@click.option("--share-files", is_flag=True, help="Also let its record take files another record holds.")
@click.pass_context
def approve(ctx: click.Context, session_id: int, share_files: bool) -> None:
    """Let a session waiting in NEEDS_REVIEW (longer than sessions.max_length_s) be built."""
    from nexuslims_kernel.sessions.review import approve as approve_session

    with database_for(ctx).session(write=True) as sess:
        approve_session(sess, session_id, actor="cli", share_files=share_files)
        _show(ctx, sess, session_id)


COMMANDS = (end, edit, cancel, approve)
