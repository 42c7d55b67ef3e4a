"""``nxhub records curate|versions|publish``: curation and DOIs from the command line.

The same rules as the API (:mod:`nexuslims_kernel.publish.curation`): the CLI acts
as an administrator unless ``--as USER`` names the person acting (only the owner
rates, so ``--rating`` needs ``--as <owner>``). Every change is a record version.
"""

from __future__ import annotations

from typing import Any

import click

from nexuslims_kernel.cli.output import database_for, dump_json, emit, emit_one, settings_for, wants_json


def _principal(sess: Any, as_user: str | None) -> Any:
    from nexuslims_kernel.cli.records_cmd import _principal as principal_for

    return principal_for(sess, as_user)


@click.command("curate")
@click.argument("record_id", type=int)
@click.option("--title", help="New title ('' = back to the builder's).")
@click.option("--description", help="Markdown description ('' = none).")
@click.option("--keyword", "keywords", multiple=True, help="A keyword (repeat; replaces the list).")
@click.option("--clear-keywords", is_flag=True, help="Remove every keyword.")
@click.option("--rating", type=int, help="1-5 (the owner's own rating; with --as OWNER).")
@click.option("--hide", multiple=True, type=int, help="Hide this dataset id (kept, never shown or exported).")
@click.option("--unhide", multiple=True, type=int, help="Show this dataset id again.")
@click.option("--feature", multiple=True, type=int, help="Feature this dataset id (at most 6 per record).")
@click.option("--unfeature", multiple=True, type=int, help="Stop featuring this dataset id.")
@click.option("--as", "as_user", help="Act as this person (default: as an administrator).")
@click.pass_context
def curate(ctx: click.Context, record_id: int, title: str | None, description: str | None, keywords: tuple[str, ...],
           clear_keywords: bool, rating: int | None, hide: tuple[int, ...], unhide: tuple[int, ...],
           feature: tuple[int, ...], unfeature: tuple[int, ...], as_user: str | None) -> None:
    """Change a record's curated fields; prints the new version."""
    from nexuslims_kernel.publish.curation import change

    body: dict[str, Any] = {}
    for name, value in (("title", title), ("description", description), ("rating", rating)):
        if value is not None:
            body[name] = value
    if keywords or clear_keywords:
        body["keywords"] = [] if clear_keywords else list(keywords)
    datasets: dict[str, dict[str, Any]] = {}
    for ids, flag, value in ((hide, "hidden", True), (unhide, "hidden", False), (feature, "featured", True),
                             (unfeature, "featured", False)):
        for ds_id in ids:
            datasets.setdefault(str(ds_id), {})[flag] = value
    if datasets:
        body["datasets"] = datasets
    if not body:
        raise click.UsageError("nothing to change: give --title, --description, --keyword, --rating, --hide, --feature ...")
    with database_for(ctx).session(write=True) as sess:
        result = change(sess, _principal(sess, as_user), record_id, body)
    if wants_json(ctx):
        dump_json(result)
        return
    click.echo(f"record {record_id}: version {result['version']}" + ("" if result["changed"] else " (nothing changed)"))


@click.command("versions")
@click.argument("record_id", type=int)
@click.option("--as", "as_user", help="Only if this person may see the record.")
@click.pass_context
def versions(ctx: click.Context, record_id: int, as_user: str | None) -> None:
    """A record's versions: who changed what, when."""
    from nexuslims_kernel.publish.curation import versions as list_versions

    with database_for(ctx).session() as sess:
        items = list_versions(sess, _principal(sess, as_user), record_id)
    if wants_json(ctx):
        dump_json({"items": items})
        return
    emit(ctx, [{"version": v["version"], "when": v["created_at"][:19], "who": v["created_by"],
                "changed": ", ".join(sorted(v["diff"])), "published": "yes" if v["published"] else ""} for v in items],
         ("version", "when", "who", "changed", "published"))


@click.command("publish")
@click.argument("record_id", type=int)
@click.option("--as", "as_user", help="Act as this person (default: as an administrator).")
@click.pass_context
def publish(ctx: click.Context, record_id: int, as_user: str | None) -> None:
    """Mint the record's DOI with DataCite (public records only; settings publish.datacite_*)."""
    from nexuslims_kernel.publish.release import publish_record

    settings, db = settings_for(ctx), database_for(ctx)
    with db.session() as sess:
        principal = _principal(sess, as_user)
    base = f"http://{settings.api.host}:{settings.api.port}{settings.api.base_path.rstrip('/')}"
    result = publish_record(db, settings, principal, record_id, base)
    if wants_json(ctx):
        dump_json(result)
        return
    emit_one(ctx, result)
