"""``nxhub pages serve``: Voilà on ``voila_apps/`` for one person, with a same-origin path to the API.

Kernels get ``NXHUB_API_URL``/``NXHUB_API_TOKEN`` (the person's token) for the
catalog. Browsers load thumbnails and downloads from ``/nxhub-api/api/v1/…``
on the pages' own origin, which this server forwards to the API with the
token added (GET and HEAD only, streamed, never through a kernel). Nothing is
loaded from a CDN: the ``nxhub`` template drops Voilà's font links.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import tornado.web
from tornado import httpclient, httputil

from nexuslims_kernel.startup import skip_slow_iri_check

SHARE = Path(__file__).parent / "share" / "jupyter"
PROXY_PREFIX = "nxhub-api"
# Every Voilà that renders these pages (``pages serve``, the hub's servers, the public service) takes these.
# nbclient stops waiting for a cell's output 4 s after the kernel's reply and the page then stays blank; with
# ten kernels starting at once on 2 cores the output can lag that much, so it waits up to a minute.
VOILA_FLAGS = ("--VoilaConfiguration.template=nxhub", "--VoilaConfiguration.theme=light",
               "--VoilaConfiguration.show_tracebacks=False", "--VoilaExecutor.iopub_timeout=60")
# A Voilà that renders only these pages loads only the front-end extensions they use (each one costs the
# browser a round of downloads and script start-up on every visit). Not for the hub's servers: people's own
# Voilà dashboards there may use any widget library.
PAGES_ONLY_FLAGS = ('--VoilaConfiguration.extension_allowlist=["anywidget", "bqplot", "bqscales", '
                    '"@jupyter-widgets/jupyterlab-manager", "@voila-dashboards/widgets-manager8"]',)
PASS_HEADERS = ("Content-Type", "Content-Length", "Content-Disposition", "Content-Range", "Accept-Ranges", "Cache-Control", "Last-Modified")


def default_apps_dir() -> Path:
    """``voila_apps/`` beside the package (a source checkout) or ``NXHUB_PAGES_DIR``."""
    return Path(os.environ.get("NXHUB_PAGES_DIR") or Path(__file__).resolve().parents[2] / "voila_apps")


def jupyter_path_with_template(environ: dict[str, str] | None = None) -> str:
    """``JUPYTER_PATH`` with this package's Voilà template first (the hub's single-user servers want it too)."""
    env = os.environ if environ is None else environ
    return os.pathsep.join([str(SHARE), *[p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]])


class ApiProxy(tornado.web.RequestHandler):
    """GET/HEAD ``/nxhub-api/api/v1/<path>`` → the API, with the person's token; the body streams through."""

    def initialize(self, upstream: str, token: str | None) -> None:
        self.upstream, self.token = upstream.rstrip("/"), token

    async def get(self, path: str) -> None:
        url = f"{self.upstream}/{path}" + (f"?{self.request.query}" if self.request.query else "")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.request.headers.get("Range"):
            headers["Range"] = self.request.headers["Range"]

        def on_header(line: str) -> None:
            if line.startswith("HTTP/"):
                self.set_status(httputil.parse_response_start_line(line.strip()).code)
            elif ":" in line:
                name, _, value = line.partition(":")
                if name.strip().title() in PASS_HEADERS:
                    self.set_header(name.strip(), value.strip())

        def on_chunk(chunk: bytes) -> None:
            self.write(chunk)
            self.flush()

        req = httpclient.HTTPRequest(url, method=self.request.method, headers=headers, header_callback=on_header,
                                     streaming_callback=on_chunk if self.request.method == "GET" else None,
                                     request_timeout=3600, decompress_response=False, follow_redirects=False)
        await httpclient.AsyncHTTPClient().fetch(req, raise_error=False)
        self.finish()

    head = get


def make_voila(apps_dir: Path, api_root: str, token: str | None, port: int, ip: str = "127.0.0.1", preheat: int = 0,
               extra_argv: list[str] | None = None) -> Any:
    """A configured (not yet started) Voilà application serving ``apps_dir``."""
    skip_slow_iri_check()
    from jupyter_server.utils import url_path_join
    from voila.app import Voila

    os.environ["JUPYTER_PATH"] = jupyter_path_with_template()
    os.environ.update({"NXHUB_API_URL": api_root, "NXHUB_PAGES_API_BASE": f"/{PROXY_PREFIX}/api/v1"})
    if token:
        os.environ["NXHUB_API_TOKEN"] = token

    class PagesVoila(Voila):
        def init_handlers(self) -> list:
            ours = [
                (url_path_join(self.server_url, rf"/{PROXY_PREFIX}/api/v1/(.*)"), ApiProxy, {"upstream": api_root, "token": token}),
                (url_path_join(self.server_url, r"/?$"), tornado.web.RedirectHandler, {"url": url_path_join(self.server_url, "voila/render/browse.ipynb")}),
            ]
            return ours + super().init_handlers()

    argv = [str(apps_dir), f"--port={port}", f"--Voila.ip={ip}", "--no-browser", *VOILA_FLAGS, *PAGES_ONLY_FLAGS,
            "--Voila.port_retries=0", "--MappingKernelManager.cull_idle_timeout=900", "--MappingKernelManager.cull_interval=60"]
    if preheat:
        argv += ["--preheat_kernel=True", f"--pool_size={preheat}"]
    app = PagesVoila()
    app.initialize(argv + list(extra_argv or []))
    return app
