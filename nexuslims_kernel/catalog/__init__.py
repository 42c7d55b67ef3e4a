"""The records catalog for notebooks and pages: Intake 2 readers over the API, never the database.

>>> cat = open_catalog()                      # in a hub server: the nxhub-api service and your hub token
>>> hits = cat.search("lamella", instrument="FEI-Titan", since="2026-01-01")
>>> sig = next(hits.records()).datasets[0].read()  # a lazy HyperSpy signal; cat["42"] is record 42
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from nexuslims_kernel.catalog.cache import FileCache
from nexuslims_kernel.catalog.client import ApiClient, CatalogError, discover
from nexuslims_kernel.catalog.entries import Activity, Dataset, Record, RecordCatalog

__all__ = ["Activity", "CatalogError", "Dataset", "FileCache", "HyperSpyReader", "NexusDataset", "Record", "RecordCatalog",
           "open_catalog"]


def __getattr__(name: str):
    """The Intake reader and data type, imported (with intake) only when asked for."""
    if name in ("HyperSpyReader", "NexusDataset"):
        from nexuslims_kernel.catalog import reader

        return getattr(reader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _stores_from_env() -> dict[str, str]:
    """``NXHUB_STORES="Titan=/mnt/titan,Krios=/mnt/krios"``: instrument file stores mounted here."""
    out = {}
    for part in filter(None, (os.environ.get("NXHUB_STORES") or "").split(",")):
        name, sep, path = part.partition("=")
        if sep:
            out[name.strip()] = path.strip()
    return out


def open_catalog(url: str | None = None, token: str | None = None, *, stores: Mapping[str, str] | None = None,
                 cache: FileCache | None = None, page_size: int = 100) -> RecordCatalog:
    """The records you may see, as a lazily paged catalog.

    ``url``/``token`` default to ``NXHUB_API_URL``/``NXHUB_API_TOKEN``, or inside a
    JupyterHub server to the ``nxhub-api`` service and ``JUPYTERHUB_API_TOKEN``.
    ``stores`` maps instrument names to locally mounted file stores (default
    ``NXHUB_STORES``) so ``read()`` opens files in place instead of downloading them.
    """
    from nexuslims_kernel.catalog.entries import Context

    client = ApiClient(*discover(url, token))
    return RecordCatalog(Context(client, stores if stores is not None else _stores_from_env(), cache), page_size=page_size)
