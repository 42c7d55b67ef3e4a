"""Result objects of an extraction: one :class:`FileResult` per file holding
one :class:`DatasetResult` per signal.

They are plain dataclasses that round-trip through JSON (``to_dict`` /
``from_dict``) because they cross process boundaries (pool workers send them
as dicts) and are stored by the record builder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

DATASET_TYPES = ("Image", "Spectrum", "SpectrumImage", "Diffraction", "Misc", "Unknown")


@dataclass
class DatasetResult:
    """What one signal in a file is, its normalised and raw metadata and its thumbnail."""

    index: int
    name: str = ""
    dataset_type: str = "Unknown"
    metadata: dict[str, Any] = field(default_factory=dict)
    raw_metadata: dict[str, Any] = field(default_factory=dict)
    shape: list[int] = field(default_factory=list)
    dtype: str = ""
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    preview: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetResult:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class FileResult:
    """Everything extracted from one main file (with its companions)."""

    path: str
    format: str = "unknown"
    size: int | None = None
    mtime: float | None = None
    companions: list[str] = field(default_factory=list)
    datasets: list[DatasetResult] = field(default_factory=list)
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    extractor: str = ""

    @property
    def ok(self) -> bool:
        """True when neither the file nor any of its signals failed."""
        return self.error is None and all(d.error is None for d in self.datasets)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["datasets"] = [d.to_dict() for d in self.datasets]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileResult:
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["datasets"] = [DatasetResult.from_dict(d) for d in data.get("datasets", [])]
        return cls(**kwargs)
