"""What every export format declares, rosettasciio-style: a name, a media type, a writer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ExporterSpec:
    """One export format.

    ``write(record, fileobj, *, previews_root=None, include_data=False,
    store_root=None)`` writes the export of ``record`` (an ORM ``Record`` or
    its JSON form) to a binary file object; options a format does not use are
    ignored.
    """

    name: str
    description: str
    media_type: str
    extension: str
    write: Callable[..., None]

    def filename(self, record_id: int | str) -> str:
        """Suggested download name, e.g. ``record-12.xml``."""
        return f"record-{record_id}.{self.extension}"


def as_json(record: Any) -> dict[str, Any]:
    """The JSON form of ``record`` whether given as an ORM object or already as a dict."""
    if isinstance(record, Mapping):
        return dict(record)
    from nexuslims_kernel.records.view import to_json

    return to_json(record)
