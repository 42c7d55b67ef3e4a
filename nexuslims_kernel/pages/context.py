"""What every page needs to know: the catalog, who is looking, the URL it was opened with, and where browsers reach the API.

The kernel talks to the API with the viewer's token (through the catalog);
the browser loads thumbnails and downloads from the API itself, at
:func:`browser_api_base`: the hub's ``/services/nxhub-api/`` (signed in by the
hub's OAuth cookie), or the same-origin ``/nxhub-api/`` of ``nxhub pages serve``
(which adds the personal token), or ``NXHUB_PAGES_API_BASE`` when set.
"""

from __future__ import annotations

import dataclasses
import os
import urllib.parse
from typing import Any

from nexuslims_kernel.catalog import RecordCatalog, open_catalog

PAGES = {"Records": "browse.ipynb", "Instruments": "instrument.ipynb"}


def wait_for_voila_request() -> None:
    """What ``voila.utils.wait_for_request`` does, without importing Voilà in the kernel.

    Importing ``voila`` pulls jupyter_server, jupyterlab_server and jsonschema (and
    with it rfc3987-syntax): about 8 s of CPU in every page kernel here. A kernel
    that Voilà started for a request already has ``QUERY_STRING``; only a
    preheated one (``VOILA_PREHEAT=True``) waits on Voilà's query socket for the
    request's environment.
    """
    if os.environ.get("VOILA_PREHEAT", "False") != "True" or "VOILA_KERNEL_ID" not in os.environ:
        return
    import asyncio
    import json
    import threading

    env = os.environ
    base = env.get("VOILA_WS_BASE_URL", env.get("VOILA_SERVER_URL", "/"))
    url = (f"{env.get('VOILA_WS_PROTOCOL', 'ws')}://{env.get('VOILA_APP_IP', '127.0.0.1')}:{env.get('VOILA_APP_PORT', '8866')}"
           f"{base}voila/query/{env['VOILA_KERNEL_ID']}")
    box: dict[str, str] = {}

    def receive() -> None:
        import websockets

        async def once() -> str:
            async with websockets.connect(url, open_timeout=120) as ws:  # kernels start slowly on a busy host
                return await ws.recv()

        box["info"] = asyncio.new_event_loop().run_until_complete(once())

    thread = threading.Thread(target=receive, daemon=True)  # the kernel's own event loop is running
    thread.start()
    thread.join()
    os.environ.update(json.loads(box.get("info") or "{}"))


def request_query() -> dict[str, str]:
    """The page URL's query string (waits for the request when the kernel was preheated)."""
    wait_for_voila_request()
    pairs = urllib.parse.parse_qsl(os.environ.get("QUERY_STRING", ""), keep_blank_values=False)
    return dict(pairs)


def browser_api_base(environ: dict[str, str] | None = None, catalog_root: str | None = None) -> str:
    """Where the *browser* finds ``/api/v1`` (a path on the page's own origin when possible)."""
    env = os.environ if environ is None else environ
    if env.get("NXHUB_PAGES_API_BASE"):
        return env["NXHUB_PAGES_API_BASE"].rstrip("/")
    if env.get("JUPYTERHUB_BASE_URL"):
        return f"{env['JUPYTERHUB_BASE_URL'].rstrip('/')}/services/nxhub-api/api/v1"
    return (catalog_root or "").rstrip("/")


@dataclasses.dataclass
class PageContext:
    catalog: RecordCatalog
    query: dict[str, str]
    api_base: str
    me: dict[str, Any]

    @classmethod
    def create(cls, catalog: RecordCatalog | None = None, query: dict[str, str] | None = None) -> PageContext:
        catalog = open_catalog() if catalog is None else catalog
        me = catalog.client.get("/me")
        return cls(catalog=catalog, query=request_query() if query is None else query,
                   api_base=browser_api_base(catalog_root=catalog.client.root), me=me)

    @property
    def username(self) -> str | None:
        return self.me.get("username")

    @property
    def is_admin(self) -> bool:
        return bool(self.me.get("is_admin"))

    def api(self, path: str) -> str:
        """A browser URL of an API resource (thumbnails, downloads)."""
        return f"{self.api_base}{path}"


def show_page(page_cls: type, catalog: RecordCatalog | None = None) -> Any:
    """Build and display a page; if the API cannot be reached, say so on the page (one line, escaped)."""
    import ipywidgets as W
    from IPython.display import display

    from nexuslims_kernel.catalog import CatalogError
    from nexuslims_kernel.pages.widgets import Stylesheet, esc, topbar

    try:
        page = page_cls(PageContext.create(catalog))
    except CatalogError as exc:
        box = W.VBox([Stylesheet(), W.HTML(topbar("", None, PAGES)),
                      W.HTML(f'<div class="nx-panel nx-empty nx-error">The records service did not answer: {esc(exc)}. '
                             "Reload the page in a moment.</div>")])
        box.add_class("nx-page")
        display(box)
        return None
    first_paint = getattr(page, "prerender", None)
    html = first_paint() if first_paint is not None and os.environ.get("VOILA_KERNEL_ID") else None
    if html:  # only under Voilà, whose ``nxhub`` template shows it before any script runs
        display({"text/html": html}, raw=True, metadata={"nxhub": "prerender"})
    display(page.widget)
    return page
