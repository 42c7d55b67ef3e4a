"""Extractor plugins and the registry that routes a file to one of them.

An extractor has a ``name``, a ``priority`` (higher is tried first), the file
``extensions`` it claims (lower case, no dot; ``"*"`` claims everything) and a
``sniff`` method that looks at the file's first bytes and returns the format
label it recognises (e.g. ``"emd-velox"``) or ``None``. Extensions are shared
(``.img``, ``.h5``, ``.csv``, ``.tif`` ...), so several extractors may claim a
file; the first whose sniffer accepts it and whose reader returns at least one
signal wins (a wrong reader can return an empty list instead of failing).

``read`` returns rosettasciio-style signal dictionaries (``data`` - a numpy or
dask array -, ``axes``, ``metadata``, ``original_metadata``); normalisation
and previews are done generically from them.

Third-party packages add extractors through the entry-point group
``nexuslims_kernel.extractors``; each entry point names an :class:`Extractor`
instance, class or a callable returning a list of them. In-process code (and
tests) call :func:`register` or :func:`register_path`; paths registered that
way are replayed in pool workers so they see the same registry.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "nexuslims_kernel.extractors"
HEAD_BYTES = 4096


class Extractor:
    """Base class of extractor plugins; override :meth:`read` (and :meth:`sniff`)."""

    name: str = "extractor"
    priority: int = 0
    extensions: tuple[str, ...] = ()

    def sniff(self, path: Path, head: bytes) -> str | None:
        """The format label if this extractor recognises the file, else ``None``."""
        return self.name

    def read(self, path: Path, fmt: str) -> list[dict[str, Any]]:
        """Signals of ``path`` as rosettasciio-style dicts (lazy arrays preferred)."""
        raise NotImplementedError

    def refine_format(self, fmt: str, signals: list[dict[str, Any]]) -> str:
        """A more precise label once the metadata is known (e.g. the TIFF flavour)."""
        return fmt

    def claims(self, ext: str) -> bool:
        return "*" in self.extensions or ext in self.extensions

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} prio={self.priority}>"


class Registry:
    """The set of known extractors, ordered by priority."""

    def __init__(self) -> None:
        self._extractors: dict[str, Extractor] = {}
        self._paths: list[str] = []
        self._loaded = False

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        from nexuslims_kernel.extract.formats import builtin_extractors

        for extractor in builtin_extractors():
            self._extractors.setdefault(extractor.name, extractor)
        self._load_entry_points()

    def _load_entry_points(self) -> None:
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                self._add_many(_instances(ep.load()))
            except Exception as exc:  # a broken plugin must not break extraction
                log.warning("extractor entry point %s failed to load: %s", ep.name, exc)

    def _add_many(self, extractors: Iterable[Extractor]) -> None:
        for extractor in extractors:
            self._extractors[extractor.name] = extractor

    def register(self, extractor: Extractor | type[Extractor]) -> Extractor:
        """Add (or replace, by name) an extractor in this process."""
        self._ensure_loaded()
        (instance,) = _instances(extractor)
        self._extractors[instance.name] = instance
        return instance

    def register_path(self, target: str) -> list[Extractor]:
        """Import ``"module:attribute"`` and register it here and in future pool workers."""
        self._ensure_loaded()
        module_name, _, attr = target.partition(":")
        obj = getattr(importlib.import_module(module_name), attr)
        instances = _instances(obj)
        self._add_many(instances)
        if target not in self._paths:
            self._paths.append(target)
        return instances

    def unregister(self, name: str) -> None:
        self._extractors.pop(name, None)
        self._paths = [p for p in self._paths if not p.endswith(":" + name)]

    def forget_path(self, target: str) -> None:
        """Stop replaying ``target`` in new workers (its extractors stay until unregistered)."""
        self._paths = [p for p in self._paths if p != target]

    @property
    def registered_paths(self) -> list[str]:
        return list(self._paths)

    def extractors(self) -> list[Extractor]:
        self._ensure_loaded()
        return sorted(self._extractors.values(), key=lambda e: -e.priority)

    def get(self, name: str) -> Extractor:
        self._ensure_loaded()
        return self._extractors[name]

    def candidates(self, path: Path, head: bytes | None = None) -> list[tuple[Extractor, str]]:
        """Extractors that claim ``path`` with the label each gives it, best first."""
        ext = path.suffix.lower().lstrip(".")
        if head is None:
            head = read_head(path)
        found = []
        for extractor in self.extractors():
            if not extractor.claims(ext):
                continue
            try:
                label = extractor.sniff(path, head)
            except Exception as exc:
                log.debug("sniffer %s failed on a file: %s", extractor.name, exc)
                label = None
            if label:
                found.append((extractor, label))
        return found


def _instances(obj: Any) -> list[Extractor]:
    if isinstance(obj, Extractor):
        return [obj]
    if isinstance(obj, type) and issubclass(obj, Extractor):
        return [obj()]
    if callable(obj):
        return [e for item in obj() for e in _instances(item)]
    if isinstance(obj, (list, tuple)):
        return [e for item in obj for e in _instances(item)]
    raise TypeError(f"not an extractor: {obj!r}")


def read_head(path: Path, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a file (empty for anything unreadable)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except OSError:
        return b""


REGISTRY = Registry()
register = REGISTRY.register
register_path = REGISTRY.register_path
unregister = REGISTRY.unregister
