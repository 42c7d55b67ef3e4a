"""``nxhub harvest``: read NEMO and iCalendar sources once and store new, edited and deleted sessions."""

from __future__ import annotations

import click

from nexuslims_kernel.cli.output import database_for, emit_one, wants_json


@click.command()
@click.option("--instrument", help="Only this instrument's calendar (default: every instrument with a harvester).")
@click.option("--since", help="Read everything ending after this date/time (ISO; naive = UTC) and reconcile edits and deletions.")
@click.option("--full", is_flag=True, help="A complete pass over the look-back window (edits, deletions) even if one ran recently.")
@click.option("--every", type=click.FloatRange(min=0.05), help="Keep harvesting every N seconds until SIGTERM/Ctrl-C (what 'nxhub up' runs).")
@click.pass_context
def harvest(ctx: click.Context, instrument: str | None, since: str | None, full: bool, every: float | None) -> None:
    """Harvest sessions and reservations from calendars; safe to run every minute and concurrently.

    One line per server or feed; exits 75 when a source could not be read (it is retried next time).
    """
    from nexuslims_kernel.calendars import harvest as run
    from nexuslims_kernel.cli.sessions_cmd import parse_when

    if every is not None:
        _loop(ctx, every)
        return
    when = parse_when(since, "UTC", "--since")
    echo = (lambda line: click.echo(line, err=True)) if not wants_json(ctx) else None
    report = run(db=database_for(ctx), instrument=instrument, since=when, full=full, echo=echo)
    if wants_json(ctx):
        emit_one(ctx, {
            "sources": [{"kind": s.kind, "source": s.label, "ok": s.ok, "message": s.message, "requests": s.requests,
                         **({k: v for k, v in vars(s.counts).items()} if s.counts else {})} for s in report.sources],
        })
    failed = [s for s in report.sources if not s.ok]
    if failed:
        from nexuslims_kernel.calendars.base import HarvestError

        raise HarvestError(f"{len(failed)} of {len(report.sources)} calendar sources could not be harvested (see above); "
                           "the others were stored, and the failed ones are tried again next time")


def _loop(ctx: click.Context, every: float) -> None:
    """``harvest_loop`` in the foreground; SIGTERM or Ctrl-C ends it after the pass in progress."""
    import signal
    import threading

    from nexuslims_kernel.calendars import harvest_loop
    from nexuslims_kernel.cli.output import settings_for

    database_for(ctx)  # refuse an out-of-date schema once, up front
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    harvest_loop(settings_for(ctx), stop, interval_s=every, echo=lambda line: click.echo(line, err=True))
