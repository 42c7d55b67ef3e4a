"""Per-vendor key paths into rosettasciio's ``original_metadata``, as data.

HyperSpy's mapping leaves out operator, detector or microscope for many
formats, and a generic key search picks the wrong ``Name``. Each table below
lists, per normalised field, the vendor paths that hold it (best first) and
the unit the vendor stores it in. Paths are dotted; ``*`` matches any key at
that level. Every path is checked against a corpus file in the tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Spec = tuple[str, str | None]  # (dotted path, vendor unit or None for text / plain numbers)

# fields whose vendor value is converted to this unit
TARGET_UNITS = {"acceleration_voltage": "kV", "camera_length": "mm", "working_distance": "mm"}
_TO_TARGET = {("V", "kV"): 1e-3, ("kV", "kV"): 1.0, ("mm", "mm"): 1.0, ("m", "mm"): 1e3}

_DM = "ImageList.*.ImageTags."
_DM_STACK = _DM + "source.Tags at creation."  # StackBuilder keeps the tags of the source image here


def _dm(*paths: str, unit: str | None = None, stack: bool = True) -> list[Spec]:
    return [(prefix + path, unit) for path in paths for prefix in ((_DM, _DM_STACK) if stack else (_DM,))]


DM: dict[str, list[Spec]] = {
    "microscope": _dm("Session Info.Microscope", "Microscope Info.Name"),
    "operator": _dm("Session Info.Operator", stack=False),
    "detector": _dm("Acquisition.Device.Name", "Session Info.Detector", stack=False) + _dm("DataBar.Device Name"),
    "acceleration_voltage": _dm("Microscope Info.Voltage", unit="V"),
    "magnification": _dm("Microscope Info.Indicated Magnification"),
    "camera_length": _dm("Microscope Info.STEM Camera Length", unit="mm"),
    "illumination_mode": _dm("Microscope Info.Illumination Mode"),
    "imaging_mode": _dm("Microscope Info.Imaging Mode"),
}

TIA: dict[str, list[Spec]] = {
    "microscope": [("ObjectInfo.ExperimentalDescription.Microscope", None)],
    "operator": [("ObjectInfo.ExperimentalDescription.User", None)],
    "acceleration_voltage": [("ObjectInfo.ExperimentalConditions.MicroscopeConditions.AcceleratingVoltage", "V"),
                             ("ObjectInfo.ExperimentalDescription.High tension_kV", "kV")],
    "magnification": [("ObjectInfo.ExperimentalDescription.Magnification_x", None)],
    "illumination_mode": [("ObjectInfo.ExperimentalDescription.Mode", None)],
}

VELOX: dict[str, list[Spec]] = {
    "microscope": [("Instrument.InstrumentModel", None), ("Instrument.InstrumentClass", None)],
    "detector": [("BinaryResult.Detector", None)],
    "acceleration_voltage": [("Optics.AccelerationVoltage", "V")],
}

FEI_TIFF: dict[str, list[Spec]] = {
    "microscope": [("fei_metadata.System.SystemType", None)],
    "operator": [("fei_metadata.User.User", None)],
    "detector": [("fei_metadata.Detectors.Name", None)],
    "acceleration_voltage": [("fei_metadata.Beam.HV", "V")],
}

ZEISS_TIFF: dict[str, list[Spec]] = {
    "microscope": [("CZ_SEM.sv_serial_number", None)],
    "operator": [("CZ_SEM.sv_user_name", None)],
    "detector": [("CZ_SEM.dp_detector_channel", None)],
    "acceleration_voltage": [("CZ_SEM.ap_actualkv", "kV")],
    "magnification": [("CZ_SEM.ap_mag", None)],
}

BRUKER: dict[str, list[Spec]] = {
    "detector": [("Detector.Type", None)],
    "acceleration_voltage": [("Microscope.HV", "kV")],
    "magnification": [("Microscope.Mag", None)],
    "working_distance": [("Microscope.WD", "mm")],
}

JEOL: dict[str, list[Spec]] = {
    "microscope": [("Instrument.Name", None)],
    "operator": [("Header.username", None)],
    "acceleration_voltage": [("Instrument.AccV", "kV"), ("Footer.Parameters.AccKV", "kV"),
                             ("PTTD Data.AnalyzableMap MeasData.MeasCond.AccKV", "kV")],
    "magnification": [("Instrument.Mag", None), ("PTTD Data.AnalyzableMap MeasData.MeasCond.Mag", None)],
}

DE_MRC: dict[str, list[Spec]] = {
    "detector": [("de_metadata.Camera Model", None)],
    "acceleration_voltage": [("de_metadata.Instrument Accelerating Voltage (V)", "V")],
}

MERLIN: dict[str, list[Spec]] = {
    "detector": [("hdr_file.Chip Type (Medipix 3.0, Medipix 3.1, Medipix 3RX)", None)],
}

PHENOM: dict[str, list[Spec]] = {
    "microscope": [("instrument.type", None)],
    "detector": [("acquisition.scan.detector", None)],
    "acceleration_voltage": [("acquisition.scan.highVoltage.value", "kV")],
}

# result.format -> table
VENDOR_FIELDS: dict[str, dict[str, list[Spec]]] = {
    "dm3": DM, "dm4": DM, "emi": TIA, "ser": TIA, "emd-velox": VELOX, "tif-fei": FEI_TIFF,
    "tif-zeiss": ZEISS_TIFF, "bcf": BRUKER, "spx": BRUKER, "asw": JEOL, "jeol-img": JEOL, "jeol-map": JEOL,
    "pts": JEOL, "jeol-eds": JEOL, "mrc-de": DE_MRC, "mib": MERLIN, "elid": PHENOM,
}

_TEXT_PREFIXES = {"microscope": "Microscope "}  # TIA writes "Microscope Tecnai ..."


def _walk(node: Any, parts: list[str]) -> Iterator[Any]:
    """Values at ``parts`` under ``node``; a key may itself contain dots ("Medipix 3.0")."""
    if not parts:
        yield node
        return
    if not isinstance(node, dict):
        return
    if parts[0] == "*":
        for child in node.values():
            yield from _walk(child, parts[1:])
        return
    for i in range(1, len(parts) + 1):
        key = ".".join(parts[:i])
        if key in node:
            yield from _walk(node[key], parts[i:])


def lookup(tree: Any, path: str) -> Any:
    """The first non-blank value at a dotted ``path`` (``*`` = any key), or None."""
    for value in _walk(tree, path.split(".")):
        value = _scalar(value)
        if value is not None:
            return value
    return None


def _scalar(value: Any) -> Any:
    """Zeiss stores ``(label, value[, unit])``; bytes and numpy scalars are unwrapped."""
    if isinstance(value, (tuple, list)) and len(value) >= 2 and isinstance(value[0], str):
        value = value[1]
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return None


def _convert(field: str, value: Any, unit: str | None) -> Any:
    if unit is None and field not in TARGET_UNITS:
        if field in ("magnification",):
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
        text = str(value)
        prefix = _TEXT_PREFIXES.get(field)
        return text[len(prefix):].strip() if prefix and text.startswith(prefix) else text
    try:
        number = abs(float(value))  # Phenom stores -15 kV
    except (TypeError, ValueError):
        return None
    target = TARGET_UNITS[field]
    return {"value": number * _TO_TARGET[(unit or target, target)], "unit": target}


def vendor_values(fmt: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Normalised fields found in ``raw`` by the table of ``fmt`` (empty for other formats)."""
    out: dict[str, Any] = {}
    for field, specs in VENDOR_FIELDS.get(fmt, {}).items():
        for path, unit in specs:
            value = lookup(raw, path)
            if value is not None:
                converted = _convert(field, value, unit)
                if converted not in (None, ""):
                    out[field] = converted
                    break
    return out
