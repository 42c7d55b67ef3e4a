"""A TIA ``.ser`` whose ``.emi`` is missing: keep what the ``.ser`` holds and say what is lost.

The ``.emi`` holds the microscope settings (voltage, mode, magnification, user);
the ``.ser`` holds the data, its calibration and, per element, a tag with the
acquisition time (Unix seconds, UTC) and for tag type 0x4142 the beam
position. Layout read here: ``ByteOrder u2, SeriesID u2, SeriesVersion u2,
DataTypeID u4, TagTypeID u4, TotalNumberElements u4, ValidNumberElements u4,
OffsetArrayOffset`` (u4, or u8 from version 0x0220 on); at that offset the
data offsets, then the tag offsets, one per element; a tag starts with
``TagTypeID u2, u2, Time u4``.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
from pathlib import Path
from typing import Any

from nexuslims_kernel.extract.companions import main_of
from nexuslims_kernel.extract.registry import Extractor

TIME_TAGS = (0x4152, 0x4142)


def _emi_missing(path: Path) -> bool:
    emi = main_of(path)  # the .emi TIA writes beside <stem>_<n>.ser (whether or not it exists)
    if emi is None:
        return True
    return not any(p.name.lower() == emi.name.lower() for p in path.parent.iterdir()) if path.parent.is_dir() else True


def ser_times(path: Path) -> tuple[list[int], int]:
    """(Unix times of the valid elements, number of valid elements) from the series' tags."""
    with open(path, "rb") as fh:
        head = fh.read(30)
        if len(head) < 26 or head[:2] != b"II":
            return [], 0
        version, _data_type, tag_type, total, valid = struct.unpack_from("<HIIII", head, 4)
        wide = version >= 0x0220
        offset = struct.unpack_from("<Q" if wide else "<I", head, 22)[0]
        if tag_type not in TIME_TAGS or not 0 < valid <= total <= 10_000_000:
            return [], int(valid)
        size = 8 if wide else 4
        fh.seek(offset + total * size)
        raw = fh.read(valid * size)
        tags = struct.unpack(f"<{len(raw) // size}{'Q' if wide else 'I'}", raw)
        times = []
        for tag in tags[:valid]:
            fh.seek(tag)
            chunk = fh.read(8)
            if len(chunk) == 8 and struct.unpack_from("<H", chunk)[0] == tag_type:
                times.append(struct.unpack_from("<I", chunk, 4)[0])
        return times, int(valid)


class LoneSerExtractor(Extractor):
    """A ``.ser`` without its ``.emi``: rosettasciio's data plus the series' own times, with a warning."""

    name = "tia-ser-alone"
    priority = 105  # before rosettasciio's TIA reader, only for a .ser whose .emi is not there
    extensions = ("ser",)

    def sniff(self, path: Path, head: bytes) -> str | None:
        return "ser" if head[:2] == b"II" and _emi_missing(path) else None

    def read(self, path: Path, fmt: str) -> list[dict[str, Any]]:
        from rsciio.tia import file_reader

        from nexuslims_kernel.extract.signals import finish_signal

        signals = [finish_signal(s) for s in file_reader(os.fspath(path), lazy=True)]
        times, valid = ser_times(path)
        emi = main_of(path)
        warning = (f"the .emi file ({emi.name if emi else 'unknown name'}) is missing: microscope settings "
                   "(voltage, mode, magnification, user) are not available; kept what the .ser holds")
        for signal in signals:
            general = signal.setdefault("metadata", {}).setdefault("General", {})
            general.setdefault("title", path.stem)
            fields: dict[str, Any] = {"ser_elements": valid} if valid else {}
            if times:
                first = dt.datetime.fromtimestamp(min(times), dt.UTC)
                general["date"], general["time"] = first.date().isoformat(), first.strftime("%H:%M:%S+00:00")
                if len(times) > 1:
                    fields["acquisition_duration"] = {"value": float(max(times) - min(times)), "unit": "s"}
            signal["normalised"] = fields
            signal["warnings"] = [warning]
            signal.setdefault("original_metadata", {})["ser_element_times"] = times[:1000]
        return signals
