"""``nxhub export RECORD_ID --format xml|json|rocrate|eln [-o FILE]``: one record out, as a file or to stdout."""

from __future__ import annotations

from pathlib import Path

import click

from nexuslims_kernel.cli.output import database_for, real_stdout, settings_for
from nexuslims_kernel.errors import InvalidInputError


@click.command()
@click.argument("record_id", type=int)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(["xml", "json", "rocrate", "eln"]),
    default="xml",
    show_default=True,
    help="Export format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of stdout (required for rocrate and eln on a terminal).",
)
@click.option("--include-data", is_flag=True, help="rocrate: also put the record's data files in the zip (eln always does).")
@click.pass_context
def export(ctx: click.Context, record_id: int, fmt: str, output: Path | None, include_data: bool) -> None:
    """Export one record as Nexus Experiment XML, JSON, an RO-Crate zip or an .eln archive (with its files)."""
    from nexuslims_kernel.publish.merge import curated_json
    from nexuslims_kernel.records import get_exporter, load_record, to_json

    spec = get_exporter(fmt)
    settings = settings_for(ctx)
    db = database_for(ctx)
    with db.session() as sess:
        record = load_record(sess, record_id)
        data = curated_json(sess, to_json(record))  # curated title, hidden datasets left out (publish.merge)
    stdout = real_stdout()  # the document itself, even under 'nxhub --json'
    if output is None and fmt in ("rocrate", "eln") and stdout.isatty():
        raise InvalidInputError(f"an {spec.name} export is a zip file: give -o FILE (or redirect stdout)")
    options = {
        "previews_root": settings.previews_path,
        "include_data": include_data,
        # .eln hands the record to an ELN, so its files go with it (rocrate only on request).
        "store_root": record.instrument.filestore_root if include_data or fmt == "eln" else None,
    }
    if output is None:
        spec.write(data, stdout.buffer, **options)
        stdout.buffer.flush()
        return
    tmp = output.with_name(f".{output.name}.part")
    try:
        with tmp.open("wb") as fh:
            spec.write(data, fh, **options)
        tmp.replace(output)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {output}: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)  # a half-written export never takes the final name
    click.echo(f"record {record_id} exported as {spec.name} to {output}", err=True)
