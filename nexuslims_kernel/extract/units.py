"""Unit strings in pint's short canonical form, without importing pint up front.

pint takes ~0.35 s to import, a fifth of the CLI's budget, so the spellings
met in EM files map through a table (checked against pint in the tests) and
only unknown spellings pay for pint.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# vendor spelling -> format(pint.Unit(x), "~")
KNOWN: dict[str, str] = {
    "kV": "kV", "V": "V", "eV": "eV", "keV": "keV", "MeV": "MeV",
    "m": "m", "mm": "mm", "cm": "cm", "um": "µm", "µm": "µm", "μm": "µm", "nm": "nm", "pm": "pm",
    "A": "Å", "\u00c5": "Å", "\u212b": "Å", "angstrom": "Å",  # Latin Å and the Angstrom sign
    "1/m": "1 / m", "1/nm": "1 / nm", "nm^-1": "1 / nm", "1 / nm": "1 / nm", "1/A": "1 / Å", "1/Å": "1 / Å",
    "1/um": "1 / µm", "1/µm": "1 / µm",
    "rad": "rad", "mrad": "mrad", "urad": "µrad", "µrad": "µrad", "deg": "deg", "°": "deg", "degree": "deg",
    "s": "s", "ms": "ms", "us": "µs", "µs": "µs", "μs": "µs", "ns": "ns", "min": "min", "h": "h",
    "A_current": "A", "nA": "nA", "pA": "pA", "uA": "µA", "µA": "µA",
    "degC": "°C", "°C": "°C", "K": "K", "Pa": "Pa", "mbar": "mbar", "Torr": "torr", "torr": "torr",
    "x": "", "": "",
}


@lru_cache(maxsize=256)
def canonical_unit(unit: str | None) -> str | None:
    """``unit`` in pint's abbreviated canonical spelling; unknown units pass through."""
    if unit is None:
        return None
    text = str(unit).strip()
    if text in KNOWN:
        return KNOWN[text]
    if text.lower() in ("<undefined>", "undefined", "t.b.d.", "none"):
        return ""
    try:
        return format(_registry().Unit(text), "~")
    except Exception:
        return text


@lru_cache(maxsize=1)
def _registry() -> Any:
    import pint

    return pint.UnitRegistry()


def quantity(value: Any, unit: str | None) -> dict[str, Any] | None:
    """``{"value": float, "unit": str}`` or ``None`` when ``value`` is not a number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return {"value": number, "unit": canonical_unit(unit) or ""}
