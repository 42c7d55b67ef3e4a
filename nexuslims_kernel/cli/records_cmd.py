"""``nxhub records list|show``: find and read records from the command line.

Listing goes through the same ACL-filtered query layer as the API's
``GET /records`` (:mod:`nexuslims_kernel.db.record_query`), with the same filters,
sorts and cursors. The CLI runs with database access, so by default it sees
every record, as an administrator does; ``--as USER`` shows what USER sees.
"""

from __future__ import annotations

from typing import Any

import click

from nexuslims_kernel.cli.curate_cmd import curate, publish, versions
from nexuslims_kernel.cli.output import database_for, dump_json, emit, emit_one, wants_json
from nexuslims_kernel.cli.sessions_cmd import parse_when

COLUMNS = ("id", "title", "instrument", "owner", "group", "start", "n_datasets", "access")


def _principal(sess: Any, as_user: str | None) -> Any:
    from nexuslims_kernel.db.acl import Principal
    from nexuslims_kernel.db.directory import get_person

    if as_user is None:
        return Principal(kind="user", username="nxhub-cli", is_admin=True)
    person = get_person(sess, as_user)
    return Principal.for_person(sess, person, is_admin=person.is_admin)


def _access(item: dict[str, Any]) -> str:
    if item["is_public"]:
        return "public" + (f" after {item['embargo_until'][:10]}" if item["embargo_until"] else "")
    return "group" if item["group"] else "private"


@click.group()
def records() -> None:
    """List, search, show, curate and publish built records."""


@records.command("list")
@click.option("-q", "--query", "q", help="Full-text search (title, people, samples, file names, metadata).")
@click.option("--instrument", help="Only this instrument (name).")
@click.option("--user", help="Only records owned by this username.")
@click.option("--from", "start_from", help="Records that started on or after this ISO date/time (UTC if naive).")
@click.option("--to", "start_to", help="Records that started before this ISO date/time.")
@click.option("--dataset-type", help="Only records with a dataset of this type, e.g. Image, Spectrum.")
@click.option("--format", "fmt", help="Only records with a file of this format, e.g. dm3.")
@click.option("--sort", type=click.Choice(["-start", "start", "title", "-title", "relevance"]),
              help="Order (default: relevance with --query, else newest first).")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--cursor", help="Continue after a previous page (its next_cursor).")
@click.option("--as", "as_user", help="Show only what this person may see.")
@click.pass_context
def list_(ctx: click.Context, q: str | None, instrument: str | None, user: str | None, start_from: str | None,
          start_to: str | None, dataset_type: str | None, fmt: str | None, sort: str | None, limit: int,
          cursor: str | None, as_user: str | None) -> None:
    """List records, with the API's filters, sorts and cursor pages."""
    from nexuslims_kernel.api.records import summary
    from nexuslims_kernel.db import record_query

    flt = record_query.RecordFilter(q=q, instrument=instrument, user=user,
                                    start_from=parse_when(start_from, "UTC", "--from"),  # naive = UTC, as in the API
                                    start_to=parse_when(start_to, "UTC", "--to"), dataset_type=dataset_type, format=fmt)
    with database_for(ctx).session() as sess:
        principal = _principal(sess, as_user)
        rows, next_cursor = record_query.page(sess, principal, flt, sort=sort or ("relevance" if q else "-start"),
                                              limit=limit, cursor=cursor)
        items = [summary(row) for row in rows]
    if wants_json(ctx):
        dump_json({"items": items, "next_cursor": next_cursor})
        return
    emit(ctx, [dict(i, access=_access(i), start=(i["start"] or "")[:16].replace("T", " ")) for i in items], COLUMNS)
    if next_cursor:
        click.echo(f"more: --cursor {next_cursor}", err=True)


@records.command("show")
@click.argument("record_id", type=int)
@click.option("--as", "as_user", help="Show it only if this person may see it.")
@click.pass_context
def show(ctx: click.Context, record_id: int, as_user: str | None) -> None:
    """One record: header, access, and its datasets by activity (--json: the complete record)."""
    from nexuslims_kernel.db.acl import get_visible_record
    from nexuslims_kernel.publish.merge import curated_json
    from nexuslims_kernel.records import load_record, to_json

    with database_for(ctx).session() as sess:
        get_visible_record(sess, _principal(sess, as_user), record_id)
        data = curated_json(sess, to_json(load_record(sess, record_id)))
    if wants_json(ctx):
        dump_json(data)
        return
    emit_one(ctx, {"id": data["id"], "title": data["title"], "instrument": data["instrument"]["name"],
                   "session": data["session_id"], "start": data["start"], "end": data["end"], **data["access"],
                   "datasets": data["n_datasets"], "warnings": "; ".join(data["warnings"]) or None})
    rows = [{"activity": a["seq"], "file": d["relpath"], "signal": d["signal_index"], "type": d["dataset_type"],
             "acquired": d["acquired_at"], "error": d["error"]} for a in data["activities"] for d in a["datasets"]]
    emit(ctx, rows, ("activity", "file", "signal", "type", "acquired", "error"), title="Datasets by activity")


for _command in (curate, versions, publish):
    records.add_command(_command)
