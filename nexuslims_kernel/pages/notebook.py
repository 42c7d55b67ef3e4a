""""Open in notebook": a notebook pre-filled with the code that loads a record, put where the user can open it.

In a JupyterHub server the notebook is written through the server's own
Jupyter contents API (with the server's token) and opened in JupyterLab;
elsewhere it is offered as a download.
"""

from __future__ import annotations

import base64
import json
import os

import httpx

from nexuslims_kernel.pages.widgets import esc


def _cell(kind: str, source: str, n: int) -> dict:
    cell = {"cell_type": kind, "id": f"cell-{n}", "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def record_notebook(record_id: int, title: str) -> dict:
    """An nbformat 4.5 notebook as a dict (nbformat itself is not imported: its jsonschema import costs seconds)."""
    sources = [
        ("markdown", f"# Record {int(record_id)}: {title}\n\nLoaded through the NexusLIMS Hub API with your own token."),
        ("code", f"from nexuslims_kernel import open_catalog\n\ncat = open_catalog()\nrecord = cat['{int(record_id)}']\nrecord"),
        ("code", "for activity in record.activities:\n    print(activity)\ndatasets = list(record.datasets[:20])\ndatasets"),
        ("code", "signal = datasets[0].read()  # a lazy HyperSpy signal; .compute() loads it\nsignal"),
    ]
    return {"cells": [_cell(kind, src, n) for n, (kind, src) in enumerate(sources)], "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
                         "language_info": {"name": "python"}}}


def open_link(record_id: int, title: str, environ: dict[str, str] | None = None) -> str:
    """HTML with a link to the new notebook (hub) or a download of it (elsewhere)."""
    env = os.environ if environ is None else environ
    nb = record_notebook(record_id, title)
    name = f"nxhub-record-{int(record_id)}.ipynb"
    server, prefix, token = env.get("JUPYTERHUB_SERVICE_URL"), env.get("JUPYTERHUB_SERVICE_PREFIX"), env.get("JUPYTERHUB_API_TOKEN")
    if server and prefix and token:
        url = f"{server.rstrip('/')}/api/contents/{name}"
        resp = httpx.put(url, json={"type": "notebook", "format": "json", "content": nb}, headers={"Authorization": f"token {token}"}, timeout=20)
        if resp.status_code < 300:
            return f'<a class="nx-button" target="_blank" rel="noopener" href="{esc(prefix.rstrip("/"))}/lab/tree/{esc(name)}">Open {esc(name)} in JupyterLab</a>'
        return f'<span class="nx-error">Could not write the notebook ({resp.status_code}).</span>'
    data = base64.b64encode(json.dumps(nb, indent=1).encode()).decode()
    return f'<a class="nx-button" download="{esc(name)}" href="data:application/x-ipynb+json;base64,{data}">Download {esc(name)}</a>'
