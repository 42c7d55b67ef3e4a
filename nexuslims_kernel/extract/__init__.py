"""Metadata and previews for every EM format rosettasciio reads.

Public API (imports are lazy so ``import nexuslims_kernel.extract`` is cheap)::

    extract_file(path, preview_dir=None, instrument=None, preview_size=None) -> FileResult
    ExtractionPool(workers=None, timeout_s=None, memory_mb=None).imap(paths, preview_dir=..., instrument=None)
    split_companions(paths) -> {main_path: [companion paths]}
    register(extractor) / register_path("module:attr")   # plugins; entry points: nexuslims_kernel.extractors
    EXTRACTOR_VERSION    # ours + rosettasciio's; cached results of another version are stale
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "EXTRACTOR_VERSION": "nexuslims_kernel.extract.version",
    "extract_file": "nexuslims_kernel.extract.core",
    "ExtractionPool": "nexuslims_kernel.extract.pool",
    "FileResult": "nexuslims_kernel.extract.results",
    "DatasetResult": "nexuslims_kernel.extract.results",
    "split_companions": "nexuslims_kernel.extract.companions",
    "companions_of": "nexuslims_kernel.extract.companions",
    "Extractor": "nexuslims_kernel.extract.registry",
    "REGISTRY": "nexuslims_kernel.extract.registry",
    "register": "nexuslims_kernel.extract.registry",
    "register_path": "nexuslims_kernel.extract.registry",
    "unregister": "nexuslims_kernel.extract.registry",
    "load_profiles": "nexuslims_kernel.extract.profiles",
    "Profile": "nexuslims_kernel.extract.profiles",
}

__all__ = sorted(_EXPORTS)  # noqa: PLE0605 - built from the lazy-import table


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
