"""Tescan SEM/FIB TIFF: the INI-style header in Tescan's private tag 50431.

The tag (type BYTE) holds a chain of blocks, each ``uint32 size`` (counting the
type), ``uint16 type`` and ``size - 2`` bytes: 0 ends the chain, 1 is a JPEG
thumbnail, 2 the ``[MAIN]`` text, 3 ``[SEM]``, 4 ``[GAMA]``, 5 ``[FIB]``; the
texts are ``key=value`` lines. Some exports hold the plain INI text instead, so
both are read. Tescan writes SI units: V, A, m, s; stage angles in degrees.
"""

from __future__ import annotations

import struct
from typing import Any

from nexuslims_kernel.extract.vendors.inifile import decode, parse_ini
from nexuslims_kernel.extract.vendors.quantities import Spec
from nexuslims_kernel.extract.vendors.tiffbase import VendorTiffExtractor

TESCAN_TAG = 50431
BLOCK_SECTIONS = {2: "MAIN", 3: "SEM", 4: "GAMA", 5: "FIB"}

# normalised field -> Tescan keys ("SECTION.Key"), best first, with the unit Tescan writes
TESCAN: dict[str, list[Spec]] = {
    "microscope": [("MAIN.DeviceModel", None), ("MAIN.Device", None)],
    "operator": [("MAIN.UserName", None)],
    "software": [("MAIN.SoftwareVersion", None)],
    "detector": [("SEM.Detector", None), ("FIB.Detector", None), ("MAIN.Detector", None)],
    "acceleration_voltage": [("SEM.HV", "V"), ("FIB.HV", "V")],
    "emission_current": [("SEM.EmissionCurrent", "A"), ("FIB.EmissionCurrent", "A")],
    "beam_current": [("SEM.PredictedBeamCurrent", "A"), ("FIB.PredictedBeamCurrent", "A")],
    "dwell_time": [("SEM.DwellTime", "s"), ("FIB.DwellTime", "s"), ("MAIN.DwellTime", "s")],
    "working_distance": [("SEM.WD", "m"), ("FIB.WD", "m")],
    "magnification": [("MAIN.Magnification", None), ("SEM.Magnification", None)],
    "scan_rotation": [("SEM.ScanRotation", "deg"), ("FIB.ScanRotation", "deg")],
    "stage.x": [("SEM.StageX", "m"), ("MAIN.StageX", "m")],
    "stage.y": [("SEM.StageY", "m"), ("MAIN.StageY", "m")],
    "stage.z": [("SEM.StageZ", "m"), ("MAIN.StageZ", "m")],
    "stage.alpha": [("SEM.StageTilt", "deg"), ("MAIN.StageTilt", "deg")],
    "stage.rotation": [("SEM.StageRotation", "deg"), ("MAIN.StageRotation", "deg")],
}


def blocks(data: bytes, byteorder: str = "<") -> dict[str, str] | None:
    """Texts of the block chain by section, or None when ``data`` is not a block chain."""
    out: dict[str, str] = {}
    pos = 0
    while pos + 6 <= len(data):
        size, kind = struct.unpack_from(byteorder + "IH", data, pos)
        if size < 2 or pos + 4 + size > len(data) + 2:  # the last block may lose its tail in a cut file
            return out or None
        body = data[pos + 6: pos + 4 + size]
        if kind == 0:
            break
        if kind in BLOCK_SECTIONS:
            out[BLOCK_SECTIONS[kind]] = decode(body)
        elif kind != 1:
            return out or None
        pos += 4 + size
    return out or None


class TescanTiffExtractor(VendorTiffExtractor):
    name = "tescan-tiff"
    tag = TESCAN_TAG
    label = "tif-tescan"
    metadata_key = "tescan_metadata"
    table = TESCAN
    time_keys = ("MAIN.Date", "MAIN.Time")
    pixel_keys = ("MAIN.PixelSizeX", "MAIN.PixelSizeY")

    def accepts(self, value: Any) -> bool:
        return b"PixelSizeX=" in (value if isinstance(value, bytes) else str(value).encode("latin-1", "replace"))

    def parse(self, value: Any) -> tuple[dict[str, Any], list[str]]:
        data = value if isinstance(value, bytes) else str(value).encode("latin-1", "replace")
        texts = blocks(data)
        raw: dict[str, Any] = {}
        skipped = 0
        if texts:
            for section, text in texts.items():
                parsed, n = parse_ini(text, section)
                skipped += n
                for name, values in parsed.items():
                    raw.setdefault(name, {}).update(values)
        else:
            raw, skipped = parse_ini(decode(data), "MAIN")
        warnings = [f"{skipped} unreadable line(s) in the Tescan header were skipped"] if skipped else []
        return raw, warnings

    def extra_fields(self, raw: dict[str, Any], fields: dict[str, Any], shape: tuple[int, ...]) -> None:
        pixel = self.pixel_size(raw, fields)
        if pixel and len(shape) >= 2:
            fields["field_of_view"] = {"value": pixel[0] * shape[1] / 1e-6, "unit": "µm"}
