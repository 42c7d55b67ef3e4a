"""Intake 2 data type and reader for NexusLIMS Hub datasets: HyperSpy signals, lazy by default.

A :class:`NexusDataset` describes where a dataset's bytes are (API, record,
dataset id, relpath, companions, sha256, optional locally mounted store root);
:class:`HyperSpyReader` turns it into a signal with rosettasciio, from the
local path when readable, else from the shared :class:`~.cache.FileCache`.
The token is never part of the description (descriptions can be saved and
shared); it is looked up from the open catalog or the environment at read time.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.parse
from pathlib import Path
from typing import Any

from intake.readers.datatypes import BaseData
from intake.readers.readers import BaseReader

from nexuslims_kernel.catalog.cache import FileCache, safe_relpath
from nexuslims_kernel.catalog.client import ApiClient, discover

_ENV_CLIENTS: dict[str, ApiClient] = {}
_LOCK = threading.Lock()


def env_client(root: str) -> ApiClient:
    """A client for ``root`` with the environment's token (for descriptions read outside their catalog)."""
    with _LOCK:
        if root not in _ENV_CLIENTS:
            _ENV_CLIENTS[root] = ApiClient(*discover(url=root))
        return _ENV_CLIENTS[root]


class NexusDataset(BaseData):
    """One dataset (one signal of one file) of a record, reachable through the API."""

    structure = {"array"}

    def __init__(self, api: str, record_id: int, dataset_id: int, relpath: str, signal_index: int = 0,
                 companions: list[str] | None = None, sha256: str | None = None, file_size: int | None = None,
                 local_root: str | None = None, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(metadata=metadata)
        self.api, self.record_id, self.dataset_id, self.relpath = api, record_id, dataset_id, relpath
        self.signal_index, self.companions, self.sha256 = signal_index, list(companions or []), sha256
        self.file_size, self.local_root = file_size, local_root

    def local_path(self) -> Path | None:
        """The file on a mounted store, if it and its companions are readable here."""
        if not self.local_root:
            return None
        root = Path(self.local_root)
        paths = [root.joinpath(*safe_relpath(r).parts) for r in (self.relpath, *self.companions)]
        return paths[0] if all(os.access(p, os.R_OK) for p in paths) else None

    def cache_key(self) -> str:
        """The file's sha256; without one, a hash of where it is and how big (still stable across processes)."""
        if self.sha256:
            return self.sha256
        return hashlib.sha256(f"{self.api}|{self.record_id}|{self.relpath}|{self.file_size}".encode()).hexdigest()


class HyperSpyReader(BaseReader):
    """A HyperSpy signal from a :class:`NexusDataset` (lazy unless ``lazy=False``)."""

    imports = {"hyperspy", "rosettasciio"}  # distribution names: Intake checks them with importlib.metadata
    implements = {NexusDataset}
    output_instance = "hyperspy.signal:BaseSignal"

    def _read(self, data: NexusDataset, lazy: bool = True, cache: FileCache | None = None, client: ApiClient | None = None,
              **kwargs: Any) -> Any:
        path = data.local_path() or self.fetch(data, cache, client)
        import hyperspy.api as hs

        try:
            signals = hs.load(str(path), lazy=lazy, **kwargs)
        except Exception:
            if not lazy:
                raise
            signals = hs.load(str(path), lazy=False, **kwargs)  # some readers (.msa, .elid, Delmic…) cannot be lazy
        if isinstance(signals, list):
            return signals[min(data.signal_index, len(signals) - 1)]
        return signals

    @staticmethod
    def fetch(data: NexusDataset, cache: FileCache | None = None, client: ApiClient | None = None) -> Path:
        """The file (with its companions) in the local cache, streamed from the API once (with ``client``'s token)."""

        def stream(rel: str):  # only called on a cache miss: a cached file needs no API at all
            api = client or env_client(data.api)
            if rel == data.relpath:
                return api.stream(f"/datasets/{data.dataset_id}/file")
            return api.stream(f"/records/{data.record_id}/files/{urllib.parse.quote(rel, safe='/')}")

        entry = (cache or FileCache()).get(data.cache_key(), [data.relpath, *data.companions], stream)
        return entry.joinpath(*safe_relpath(data.relpath).parts)
