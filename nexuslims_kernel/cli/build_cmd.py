"""``nxhub build``, ``nxhub worker``, ``nxhub index`` and ``nxhub sessions infer``."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import click

from nexuslims_kernel.cli.output import database_for, dump_json, emit, settings_for, wants_json
from nexuslims_kernel.errors import InvalidInputError

RESULT_COLUMNS = ("session", "status", "files", "datasets", "activities", "extracted", "cached", "seconds", "note")


def _parse_since(value: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"--since {value!r} is not an ISO date or date-time (e.g. 2026-03-01)") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _result_row(r: Any) -> dict[str, Any]:
    note = r.error or (f"{len(r.warnings)} warning(s): {r.warnings[0]}" if r.warnings else "")
    return {"session": r.session_id, "status": str(r.status), "files": r.n_files, "datasets": r.n_datasets,
            "activities": r.n_activities, "extracted": r.n_extracted, "cached": r.n_cached, "seconds": r.elapsed_s,
            "record": r.record_id, "note": note}


def _targets(db: Any, session_id: int | None, since: dt.datetime | None) -> list[Any]:
    """Sessions to build: one named session, queued ones since a date, or the whole ready queue."""
    from sqlalchemy import or_, select

    from nexuslims_kernel.db.base import utcnow
    from nexuslims_kernel.db.models import InstrumentSession as IS
    from nexuslims_kernel.errors import NotFoundError

    with db.session() as sess:
        if session_id is not None:
            row = sess.get(IS, session_id)
            if row is None:
                raise NotFoundError(f"session {session_id} does not exist")
            return [row]
        stmt = select(IS).where(IS.status == "TO_BE_BUILT").order_by(IS.id)
        if since is not None:
            stmt = stmt.where(IS.start >= since)
        else:
            stmt = stmt.where(or_(IS.not_before.is_(None), IS.not_before <= utcnow()))
        return list(sess.scalars(stmt))


def _dry_run(ctx: click.Context, db: Any, sessions: list[Any]) -> None:
    """Each session's files grouped into the activities a build would make; nothing is changed."""
    from nexuslims_kernel.builder.plan import plan_session

    settings = settings_for(ctx)
    plans = [plan_session(db, s.id, settings) for s in sessions]
    if wants_json(ctx):
        dump_json(plans)
        return
    emit(ctx, plans, ("session", "instrument", "status", "start", "end", "files", "n_activities"),
         title="Would build (dry run)")
    for plan in plans:
        rows = [{"activity": a["seq"], "file": f["relpath"], "time": f["time"], "time from": f["time_from"],
                 "companions": f["companions"]} for a in plan["activities"] for f in a["files"]]
        if rows:
            emit(ctx, rows, ("activity", "file", "time", "time from", "companions"),
                 title=f"Session {plan['session']}: files by activity")


@click.command()
@click.option("--session", "session_id", type=int, help="Build (or rebuild) this session now.")
@click.option("--since", help="Build queued sessions that started on or after this ISO date.")
@click.option("--dry-run", is_flag=True, help="Show the files and activities each build would use; change nothing.")
@click.pass_context
def build(ctx: click.Context, session_id: int | None, since: str | None, dry_run: bool) -> None:
    """Build records of queued sessions now (default: everything ready in the queue)."""
    from nexuslims_kernel.builder import build_session
    from nexuslims_kernel.builder.progress import BuildProgress
    from nexuslims_kernel.builder.worker import LazyPool
    from nexuslims_kernel.sessions.machine import move

    if session_id is not None and since:
        raise InvalidInputError("give --session or --since, not both")
    settings = settings_for(ctx)
    db = database_for(ctx)
    if not dry_run:  # never-ended sessions wait for an admin instead of sweeping up the store
        from nexuslims_kernel.sessions.review import sweep_unended

        sweep_unended(db, settings, actor="cli")
    targets = _targets(db, session_id, _parse_since(since) if since else None)
    if dry_run:
        _dry_run(ctx, db, targets)
        return
    if session_id is not None and targets[0].status in ("COMPLETED", "NO_FILES", "ERROR"):
        move(db, session_id, "TO_BE_BUILT", actor="cli", reason="rebuild requested with nxhub build --session")
    pool = LazyPool(settings)
    results = []
    try:
        with BuildProgress(enabled=not wants_json(ctx)) as bar:
            for s in targets:
                results.append(build_session(db, s.id, settings, pool=pool, progress=bar.callback(s.id), worker_id="cli"))
    finally:
        pool.close()
    emit(ctx, [_result_row(r) for r in results], RESULT_COLUMNS, title="Build summary")


@click.command()
@click.option("--once", is_flag=True, help="Build at most one session, then exit.")
@click.option("--id", "worker_id", help="Worker name shown in claims (default host:pid).")
@click.pass_context
def worker(ctx: click.Context, once: bool, worker_id: str | None) -> None:
    """Claim and build queued sessions until stopped (SIGTERM finishes the current build).

    One line on stderr when a session is claimed and one when it is finished.
    """
    from nexuslims_kernel.builder import default_worker_id, run_worker

    settings = settings_for(ctx)
    db = database_for(ctx)
    name = worker_id or default_worker_id()
    say = lambda msg: click.echo(f"worker {name}: {msg}", err=True)  # noqa: E731
    say("waiting for queued sessions (Ctrl-C to stop)")
    n = run_worker(db, once=once, settings=settings, worker_id=name,
                   on_claim=lambda sid: say(f"claimed session {sid}"),
                   on_result=lambda r: say(f"session {r.session_id} {r.status} in {r.elapsed_s:.1f} s: "
                                           + (r.error or f"record {r.record_id}, {r.n_files} files, "
                                                         f"{r.n_datasets} datasets, {r.n_activities} activities")))
    say(f"stopped; built {n} session(s)")


@click.command()
@click.argument("instrument", required=False)
@click.option("--watch", is_flag=True, help="Keep running and index changes as they happen (INSTRUMENT, or all).")
@click.option("--full", is_flag=True, help="Re-list every folder, not only changed ones.")
@click.pass_context
def index(ctx: click.Context, instrument: str | None, watch: bool, full: bool) -> None:
    """Update the file index of one instrument's store (default: all instruments)."""
    from nexuslims_kernel import files

    settings = settings_for(ctx)
    db = database_for(ctx)
    if watch:
        def report(st: files.ScanStats) -> None:
            click.echo(f"{st.instrument}: +{st.added_or_changed} -{st.deleted} ({st.unsettled} settling)", err=True)

        if instrument:
            click.echo(f"watching the file store of {instrument} (Ctrl-C to stop)", err=True)
            files.watch(db, instrument, settings, on_scan=report)
            return
        stop = threading.Event()
        names = files.store_names(db)
        if not names:
            raise InvalidInputError("no instrument has a file store root (see 'nxhub instruments edit')")
        click.echo(f"watching the file stores of {', '.join(names)} (Ctrl-C to stop)", err=True)
        try:
            files.watch_all(db, settings, stop, on_scan=report,
                            on_error=lambda name, exc: click.echo(f"nxhub: error: cannot watch {name}: {exc}", err=True))
        except KeyboardInterrupt:
            stop.set()
        return
    failures: list[Any] = []

    def report_failure(name: str, exc: Exception) -> None:
        failures.append(exc)
        click.echo(f"nxhub: error: {exc}", err=True)

    if instrument:
        stats = [files.scan(db, instrument, settings, full=full)]
    else:  # every reachable store, even when one before it is missing
        stats = files.scan_all(db, settings, full=full, on_error=report_failure)
    emit(ctx, [s.to_dict() for s in stats],
         ("instrument", "dirs_listed", "dirs_skipped", "files_seen", "added_or_changed", "deleted", "unsettled", "files_per_s"),
         title="File index")
    if failures:
        raise click.exceptions.Exit(failures[0].exit_code)


@click.command()
@click.argument("instrument")
@click.option("--gap", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              help="Minutes of no new files that end an inferred session.")
@click.option("--create", is_flag=True, help="Create the proposed sessions (queued for building); default is a dry run.")
@click.pass_context
def infer(ctx: click.Context, instrument: str, gap: float, create: bool) -> None:
    """Propose sessions from bursts of file activity that no session covers."""
    from nexuslims_kernel.builder import infer as inference

    settings = settings_for(ctx)
    db = database_for(ctx)
    proposals = inference.propose(db, instrument, gap_s=gap * 60, settings=settings)
    if create:
        inference.create(db, proposals)
    rows = [{"instrument": p.instrument, "start": p.start, "end": p.end, "files": p.n_files, "session": p.session_id}
            for p in proposals]
    emit(ctx, rows, ("instrument", "start", "end", "files", "session"),
         title="Created sessions" if create else "Proposed sessions (dry run; --create to add them)")
