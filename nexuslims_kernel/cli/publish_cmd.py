"""``nxhub publish cdcs|elabftw ID --url …``: hand a record on (tokens from the environment only)."""

from __future__ import annotations

import os

import click

from nexuslims_kernel.cli.output import database_for, emit_one, settings_for

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
@click.option("--url", required=True, help="The CDCS instance, e.g. https://cdcs.example.org/")
@click.option("--template", default="Nexus Experiment", show_default=True, help="Title of the CDCS global template.")
@click.option("--workspace", help="Assign the document to this CDCS workspace (by title), e.g. 'Global Public Workspace'.")
@RETRIES
@click.pass_context
def cdcs(ctx: click.Context, record_id: int, url: str, template: str, workspace: str | None, retries: int) -> None:
    """Upload (or update) a record's Nexus XML in CDCS; publishing again updates the same document."""
    from nexuslims_kernel.interop.cdcs import CdcsClient, publish_cdcs

    db = database_for(ctx)
    client = CdcsClient(url, _token("cdcs"), retries=retries)
    try:
        result = publish_cdcs(db, record_id, client, template=template, workspace=workspace)
    finally:
        client.close()
    emit_one(ctx, result.as_dict())


@publish.command()
@click.argument("record_id", type=int)
@click.option("--url", required=True, help="The eLabFTW instance, e.g. https://elab.example.org/")
@click.option("--include-data", is_flag=True, help="Put the record's data files in the attached .eln too.")
@RETRIES
@click.pass_context
def elabftw(ctx: click.Context, record_id: int, url: str, include_data: bool, retries: int) -> None:
    """Create (or update) an eLabFTW experiment for a record, with its .eln attached (API v2)."""
    from nexuslims_kernel.interop.elabftw import ElabClient, publish_elabftw

    db = database_for(ctx)
    client = ElabClient(url, _token("elabftw"), retries=retries)
    try:
        result = publish_elabftw(db, record_id, client, previews_root=settings_for(ctx).previews_path,
                                 include_data=include_data)
    finally:
        client.close()
    emit_one(ctx, result.as_dict())
