"""What the builder hands to :func:`write_record`: one entry per dataset (signal) of a file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the extract package pulls in numpy; records only need the shape of its results
    from nexuslims_kernel.extract.results import DatasetResult


@dataclass
class DatasetInput:
    """One signal of one file as found by the builder.

    ``result`` is the extractor's :class:`DatasetResult` (``None`` when the
    whole file failed, then ``file_error`` says why).
    """

    relpath: str  # POSIX, relative to the instrument's file-store root
    file_id: int | None = None
    size: int | None = None
    mtime: float | None = None  # seconds since the epoch
    format: str | None = None
    companions: list[str] = field(default_factory=list)
    result: DatasetResult | None = None
    file_error: str | None = None

    @property
    def basename(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.result.metadata or {}) if self.result is not None else {}

    def acquired_at(self, tz: str = "UTC") -> dt.datetime | None:
        """Acquisition time from the metadata, else the file's mtime; always UTC-aware.

        A time without an offset is taken as local time of the instrument ``tz``.
        """
        text = self.metadata.get("acquisition_time")
        if isinstance(text, str) and text:
            try:
                value = dt.datetime.fromisoformat(text)
            except ValueError:
                value = None
            if value is not None:
                if value.tzinfo is None:
                    value = value.replace(tzinfo=_zone(tz))
                return value.astimezone(dt.UTC)
        if self.mtime is not None:
            return dt.datetime.fromtimestamp(self.mtime, dt.UTC)
        return None


def _zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return dt.UTC
