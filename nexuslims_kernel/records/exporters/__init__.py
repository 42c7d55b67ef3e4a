"""Export formats, one module each with a ``SPEC``; the registry is built from them.

Like rosettasciio's ``IO_PLUGINS``: adding a format is adding a module to
``_MODULES``. ``get_exporter(name)`` finds one by name (or extension).
"""

from __future__ import annotations

import importlib

from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.records.exporters.spec import ExporterSpec

# A bare name is a module of this package; a dotted one lives elsewhere (the .eln writer is interop's).
_MODULES = ("xml", "json", "rocrate", "nexuslims_kernel.interop.eln")

EXPORTERS: dict[str, ExporterSpec] = {
    spec.name: spec
    for spec in (importlib.import_module(m if "." in m else f"{__name__}.{m}").SPEC for m in _MODULES)
}


def get_exporter(name: str) -> ExporterSpec:
    """The exporter called ``name`` (or with that file extension); InvalidInputError if none."""
    key = (name or "").strip().lower()
    spec = EXPORTERS.get(key) or next((s for s in EXPORTERS.values() if s.extension == key), None)
    if spec is None:
        raise InvalidInputError(f"unknown export format {name!r}; choose one of: {', '.join(EXPORTERS)}")
    return spec


__all__ = ["EXPORTERS", "ExporterSpec", "get_exporter"]
