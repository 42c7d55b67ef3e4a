"""``nxhub pages serve``: the browse, record and instrument pages in Voilà for one person."""

from __future__ import annotations

import click


@click.group()
def pages() -> None:
    """Serve the Voilà pages (browse, record, instrument dashboard)."""


@pages.command("serve")
@click.option("--port", type=int, default=8866, show_default=True, help="Port for the pages.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (keep it on loopback: the pages act as you).")
@click.option("--api", "api_url", envvar="NXHUB_API_URL", help="The API (default: NXHUB_API_URL, else this machine's api.host:api.port).")
@click.option("--token", envvar="NXHUB_API_TOKEN", help="Your personal API token (default: NXHUB_API_TOKEN; none = public records).")
@click.option("--apps", "apps_dir", type=click.Path(file_okay=False, exists=True), help="Folder of page notebooks (default: voila_apps/).")
@click.option("--preheat", type=click.IntRange(0, 8), default=1, show_default=True,
              help="Kernels kept started and imported per page, waiting for a visitor (0: start one per visit).")
@click.pass_context
def serve(ctx: click.Context, port: int, host: str, api_url: str | None, token: str | None, apps_dir: str | None, preheat: int) -> None:
    """Serve the pages until interrupted, calling the API with your token."""
    from pathlib import Path

    from nexuslims_kernel.catalog.client import api_root
    from nexuslims_kernel.cli.output import settings_for
    from nexuslims_kernel.errors import InvalidInputError
    from nexuslims_kernel.pages.serve import default_apps_dir, make_voila

    if not api_url:
        s = settings_for(ctx)
        api_url = f"http://{s.api.host}:{s.api.port}{s.api.base_path.rstrip('/')}"
    folder = Path(apps_dir) if apps_dir else default_apps_dir()
    if not (folder / "browse.ipynb").is_file():
        raise InvalidInputError(f"no page notebooks in {folder} (pass --apps DIR or set NXHUB_PAGES_DIR)")
    app = make_voila(folder, api_root(api_url), token, port, host, preheat)
    click.echo(f"NexusLIMS Hub pages on http://{host}:{app.port}/ (API {api_root(api_url)}, "
               f"{'with your token' if token else 'no token: public records only'})", err=True)
    app.start()
