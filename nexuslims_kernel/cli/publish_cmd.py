"""``nxhub publish cdcs ID --url …``: hand a record on to a CDCS instance (token from the environment only)."""

from __future__ import annotations

import os

import click

from nexuslims_kernel.cli.output import database_for, emit_one

TOKEN_VARS = ("NXHUB_CDCS_TOKEN", "NX_CDCS_TOKEN")  # ours, then the one a NexusLIMS site already has


@click.group()
def publish() -> None:
    """Hand records on to other systems."""


@publish.command()
@click.argument("record_id", type=int)
@click.option("--url", required=True, help="The CDCS instance, e.g. https://cdcs.example.org/")
@click.option("--template", default="Nexus Experiment", show_default=True, help="Title of the CDCS global template.")
@click.option("--workspace", help="Assign the document to this CDCS workspace (by title), e.g. 'Global Public Workspace'.")
@click.option("--retries", type=click.IntRange(0, 10), default=4, show_default=True, help="Retries of a failed request.")
@click.pass_context
def cdcs(ctx: click.Context, record_id: int, url: str, template: str, workspace: str | None, retries: int) -> None:
    """Upload (or update) a record's Nexus XML in CDCS; publishing again updates the same document."""
    from nexuslims_kernel.interop.cdcs import CdcsClient, publish_cdcs

    db = database_for(ctx)
    token = next((os.environ[v] for v in TOKEN_VARS if os.environ.get(v)), "")
    client = CdcsClient(url, token, retries=retries)
    try:
        result = publish_cdcs(db, record_id, client, template=template, workspace=workspace)
    finally:
        client.close()
    emit_one(ctx, result.as_dict())
