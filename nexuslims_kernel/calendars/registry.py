"""Harvester kinds by short name, like rosettasciio's plug-ins: ``nemo``, ``ical``, and any plug-in.

An instrument names its kind in ``instruments.harvester``; the kind maps to a
function ``sources(instruments) -> [Source]`` that groups that kind's
instruments into servers or feeds. Third-party kinds come from the entry-point
group ``nexuslims_kernel.harvesters`` (name = kind, value = such a function)
or :func:`register`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

from nexuslims_kernel.errors import ConfigError

ENTRY_POINT_GROUP = "nexuslims_kernel.harvesters"
BUILTIN: dict[str, str] = {
    "nemo": "nexuslims_kernel.calendars.nemo:sources",
    "ical": "nexuslims_kernel.calendars.ical:sources",
}
_registered: dict[str, Callable[..., list[Any]]] = {}


def register(kind: str, factory: Callable[..., list[Any]]) -> None:
    """Add (or replace) harvester ``kind`` in this process."""
    _registered[kind] = factory


def kinds() -> list[str]:
    return sorted({*BUILTIN, *_registered, *(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))})


def factory(kind: str) -> Callable[..., list[Any]]:
    """The ``sources`` function of harvester ``kind``."""
    if kind in _registered:
        return _registered[kind]
    if kind in BUILTIN:
        module, attr = BUILTIN[kind].split(":")
        return getattr(importlib.import_module(module), attr)
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=kind):
        return ep.load()
    raise ConfigError(f"unknown harvester {kind!r}; known: {', '.join(kinds())}")
