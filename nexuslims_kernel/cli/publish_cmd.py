"""``nxhub publish cdcs|elabftw ID --url …``: hand a record on (tokens from the environment only)."""

from __future__ import annotations

import os

import click

from nexuslims_kernel.cli.output import database_for, emit_one, settings_for
from nexuslims_kernel.errors import InvalidInputError

# ours first, then the variable a NexusLIMS site already has
TOKEN_VARS = {"cdcs": ("NXHUB_CDCS_TOKEN", "NX_CDCS_TOKEN"), "elabftw": ("NXHUB_ELABFTW_TOKEN", "NX_ELABFTW_API_KEY")}


def _token(kind: str) -> str:
    return next((os.environ[v] for v in TOKEN_VARS[kind] if os.environ.get(v)), "")


@click.group()
def publish() -> None:
    """Hand records on to other systems."""


RETRIES = click.option("--retries", type=click.IntRange(0, 10), default=4, show_default=True,
                       help="Retries of a failed request (connection errors, 5xx, 429), with back-off.")


@publish.command()
@click.argument("record_id", type=int)
@click.option("--url", help="The CDCS instance, e.g. https://cdcs.example.org/ (default: interop.cdcs_url)")
@click.option("--template", help="Title of the CDCS global template (default: interop.cdcs_template).")
@click.option("--workspace", help="Assign the document to this CDCS workspace (by title), e.g. 'Global Public Workspace'.")
@RETRIES
@click.pass_context
def cdcs(ctx: click.Context, record_id: int, url: str | None, template: str | None, workspace: str | None,
         retries: int) -> None:
    """Upload (or update) a record's Nexus XML in CDCS; publishing again updates the same document."""
    emit_one(ctx, _cdcs_publisher(ctx, url, template, workspace, retries)(record_id).as_dict())


def _url(value: str | None, setting: str, what: str) -> str:
    if not (value or setting):
        raise InvalidInputError(f"no {what} URL: give --url or set interop.{what.lower()}_url")
    return value or setting


def _cdcs_publisher(ctx: click.Context, url: str | None, template: str | None, workspace: str | None, retries: int):
    from nexuslims_kernel.interop.cdcs import CdcsClient, publish_cdcs

    cfg = settings_for(ctx).interop
    db = database_for(ctx)
    base = _url(url, cfg.cdcs_url, "CDCS")

    def one(record_id: int):
        client = CdcsClient(base, _token("cdcs"), retries=retries)
        try:
            return publish_cdcs(db, record_id, client, template=template or cfg.cdcs_template,
                                workspace=workspace or cfg.cdcs_workspace or None)
        finally:
            client.close()

    one.base = base
    return one


@publish.command()
@click.argument("record_id", type=int)
@click.option("--url", help="The eLabFTW instance, e.g. https://elab.example.org/ (default: interop.elabftw_url)")
@click.option("--include-data", is_flag=True, help="Put the record's data files in the attached .eln too.")
@RETRIES
@click.pass_context
def elabftw(ctx: click.Context, record_id: int, url: str | None, include_data: bool, retries: int) -> None:
    """Create (or update) an eLabFTW experiment for a record, with its .eln attached (API v2)."""
    emit_one(ctx, _elab_publisher(ctx, url, include_data, retries)(record_id).as_dict())


def _elab_publisher(ctx: click.Context, url: str | None, include_data: bool, retries: int):
    from nexuslims_kernel.interop.elabftw import ElabClient, publish_elabftw

    settings = settings_for(ctx)
    db = database_for(ctx)
    base = _url(url, settings.interop.elabftw_url, "eLabFTW")

    def one(record_id: int):
        client = ElabClient(base, _token("elabftw"), retries=retries)
        try:
            return publish_elabftw(db, record_id, client, previews_root=settings.previews_path, include_data=include_data)
        finally:
            client.close()

    one.base = base
    return one


@publish.command()
@RETRIES
@click.pass_context
def pending(ctx: click.Context, retries: int) -> None:
    """Publish every record not yet handed to interop.cdcs_url / interop.elabftw_url (run it from cron)."""
    from nexuslims_kernel.cli.output import dump_json, wants_json
    from nexuslims_kernel.interop.pending import publish_pending

    cfg = settings_for(ctx).interop
    targets = {}
    if cfg.cdcs_url:
        one = _cdcs_publisher(ctx, None, None, None, retries)
        targets["cdcs"] = (one.base, one)
    if cfg.elabftw_url:
        one = _elab_publisher(ctx, None, False, retries)
        targets["elabftw"] = (one.base, one)
    if not targets:
        raise InvalidInputError("no publish target: set interop.cdcs_url and/or interop.elabftw_url")
    report = publish_pending(database_for(ctx), targets)
    if wants_json(ctx):
        dump_json(report)
        return
    for kind, res in report.items():
        click.echo(f"{kind} {res['url']}: {len(res['published'])} published, {len(res['failed'])} failed")
        for item in res["failed"]:
            click.echo(f"  record {item['record']}: {item['reason']}")
