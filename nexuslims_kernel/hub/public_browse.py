"""The ``nxhub-public`` hub service: Voilà on the pages with no credentials at all.

JupyterHub hands every managed service its own API token; this launcher drops
it (and every other ``JUPYTERHUB_*`` or database setting) before starting
Voilà, so the pages' kernels call the API anonymously and see public records only.

Usage (by the hub): ``python -m nexuslims_kernel.hub.public_browse PAGES_DIR PORT API_URL``.
"""

from __future__ import annotations

import os
import sys

from nexuslims_kernel.pages.serve import PAGES_ONLY_FLAGS, VOILA_FLAGS, jupyter_path_with_template

SERVICE_PREFIX = "/services/nxhub-public/"


def clean_env(environ: dict[str, str], api_url: str) -> dict[str, str]:
    """The service's environment minus every credential; the API URL for the pages."""
    drop = ("JUPYTERHUB_", "NXHUB_")
    env = {k: v for k, v in environ.items() if not k.startswith(drop)}
    env["NXHUB_API_URL"] = api_url
    env["NXHUB_PAGES_API_BASE"] = "/services/nxhub-api/api/v1"  # browsers fetch thumbnails through the proxy
    return env


def main(argv: list[str]) -> None:
    pages, port, api_url = argv
    args = [sys.executable, "-m", "nexuslims_kernel.hub.launch", "voila", pages, f"--port={port}", "--no-browser",
            "--Voila.ip=127.0.0.1", f"--base_url={SERVICE_PREFIX}", *VOILA_FLAGS, *PAGES_ONLY_FLAGS]
    env = clean_env(dict(os.environ), api_url)
    env["JUPYTER_PATH"] = jupyter_path_with_template(env)
    os.execve(sys.executable, args, env)  # through the launcher: Voilà without jsonschema's IRI grammar


if __name__ == "__main__":
    main(sys.argv[1:])
