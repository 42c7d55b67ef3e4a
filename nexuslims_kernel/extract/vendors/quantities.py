"""Vendor values to normalised fields: unit conversion and the spec tables' walker.

A spec table (one per vendor module) maps a normalised field to the vendor keys
that may hold it, best first, with the unit the vendor writes (used when the
file does not say). Quantities come out in the units the rest of the engine
uses (kV, nA, µA, s, mm, µm, deg), so a field means the same for every format.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

# unit spelling -> (dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "V": ("V", 1.0), "kV": ("V", 1e3), "mV": ("V", 1e-3),
    "A": ("A", 1.0), "mA": ("A", 1e-3), "uA": ("A", 1e-6), "µA": ("A", 1e-6), "μA": ("A", 1e-6),
    "nA": ("A", 1e-9), "pA": ("A", 1e-12), "fA": ("A", 1e-15),
    "s": ("s", 1.0), "ms": ("s", 1e-3), "us": ("s", 1e-6), "µs": ("s", 1e-6), "μs": ("s", 1e-6), "ns": ("s", 1e-9),
    "m": ("m", 1.0), "mm": ("m", 1e-3), "um": ("m", 1e-6), "µm": ("m", 1e-6), "μm": ("m", 1e-6), "nm": ("m", 1e-9),
    "deg": ("deg", 1.0), "°": ("deg", 1.0), "degree": ("deg", 1.0), "rad": ("deg", 180 / math.pi),
    "mrad": ("deg", 0.180 / math.pi),
}

# normalised field -> unit it is stored in ("" = plain number)
TARGET_UNITS: dict[str, str] = {
    "acceleration_voltage": "kV", "beam_current": "nA", "emission_current": "µA", "dwell_time": "s",
    "working_distance": "mm", "field_of_view": "µm", "scan_rotation": "deg", "magnification": "",
    "x": "mm", "y": "mm", "z": "mm", "alpha": "deg", "beta": "deg", "rotation": "deg",
}
TEXT_FIELDS = {"microscope", "operator", "detector", "ion_species", "ion_polarity", "imaging_mode", "software"}

Spec = tuple[str, str | None]  # (vendor key, unit the vendor writes it in)
_NUMBER = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*)\s*$")


def split_value(text: Any) -> tuple[float | None, str | None]:
    """``"15 kV"`` -> (15.0, "kV"); a bare number -> (value, None); anything else -> (None, None)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text), None
    match = _NUMBER.match(str(text or ""))
    if not match:
        return None, None
    return float(match.group(1)), match.group(2) or None


def convert(value: float, unit: str | None, field: str) -> dict[str, Any] | float | None:
    """``value`` in ``unit`` as the field's normalised quantity (None if the units do not fit)."""
    target = TARGET_UNITS.get(field, "")
    if not math.isfinite(value):
        return None
    if not target:
        return value
    unit = unit or target
    src, dst = _UNITS.get(unit), _UNITS.get(target)
    if src is None or dst is None or src[0] != dst[0]:
        return None
    return {"value": float(f"{value * src[1] / dst[1]:.12g}"), "unit": target}  # no 6.119999999 from 0.00612 m


def pick(raw: Mapping[str, Any], field: str, specs: list[Spec],
         getter: Callable[[Mapping[str, Any], str], Any]) -> Any:
    """The first vendor key of ``specs`` present in ``raw``, converted for ``field``."""
    for key, default_unit in specs:
        found = getter(raw, key)
        if found is None or found == "":
            continue
        if field in TEXT_FIELDS:
            text = found[0] if isinstance(found, tuple) else found
            if str(text).strip():
                return str(text).strip()
            continue
        text, unit = found if isinstance(found, tuple) else (found, None)
        value, inline_unit = split_value(text)
        if value is None:
            continue
        converted = convert(value, unit or inline_unit or default_unit, field)
        if converted is not None:
            return converted
    return None


def normalised_fields(raw: Mapping[str, Any], table: Mapping[str, list[Spec]],
                      getter: Callable[[Mapping[str, Any], str], Any]) -> dict[str, Any]:
    """Every field of ``table`` found in ``raw``; ``stage.<axis>`` entries go into ``stage_position``."""
    out: dict[str, Any] = {}
    for field, specs in table.items():
        name = field.split(".", 1)[1] if field.startswith("stage.") else field
        value = pick(raw, name, specs, getter)
        if value is None:
            continue
        if field.startswith("stage."):
            out.setdefault("stage_position", {})[name] = value
        else:
            out[field] = value
    return out


def dotted(tree: Mapping[str, Any], key: str) -> Any:
    """``tree["A"]["B"]`` for ``"A.B"`` (case-insensitive on each level), or None."""
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, Mapping):
            return None
        if part in node:
            node = node[part]
            continue
        lowered = {str(k).lower(): k for k in node}
        if part.lower() not in lowered:
            return None
        node = node[lowered[part.lower()]]
    return node
