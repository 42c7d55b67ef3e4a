"""EM Glossary terms of the normalised fields: one table, field name -> EMG id.

Sources: the NeXus NXem base classes' "related to term ... of the EMglossary
standard" links (acceleration voltage, camera length, convergence angle, dwell
time, working distance) and NexusLIMS 2.3's field reference, which also gives
beam current and emission current. Emission current is the least certain: the
NeXus links give EMG_00000025 to both extraction voltage and emission current,
and NexusLIMS 2.2 named EMG_00000031. Fields the glossary has no verified term
for (magnification, field of view, detector, stage position, exposure time ...)
are left out rather than guessed. ``acquisition_time`` is *not* mapped: ours is
a date-time, the glossary's Acquisition Time is a duration.
"""

from __future__ import annotations

from typing import Any

EMG_BASE = "https://purls.helmholtz-metadaten.de/emg/"

# normalised field -> (EMG id, glossary label)
EMG_TERMS: dict[str, tuple[str, str]] = {
    "acceleration_voltage": ("EMG_00000004", "Acceleration Voltage"),
    "beam_current": ("EMG_00000006", "Beam Current"),
    "camera_length": ("EMG_00000008", "Camera Length"),
    "convergence_angle": ("EMG_00000010", "Convergence Angle"),
    "dwell_time": ("EMG_00000015", "Dwell Time"),
    "emission_current": ("EMG_00000025", "Emission Current"),
    "working_distance": ("EMG_00000050", "Working Distance"),
}


def emg_iri(field: str) -> str | None:
    """The glossary IRI of a normalised field, or None when it has no term."""
    term = EMG_TERMS.get(field)
    return EMG_BASE + term[0] if term else None


def glossary_properties(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """schema.org ``PropertyValue`` dicts for the fields of ``metadata`` that have a term."""
    out = []
    for field in sorted(EMG_TERMS):
        value = metadata.get(field)
        if value is None:
            continue
        label = EMG_TERMS[field][1]
        prop: dict[str, Any] = {"@type": "PropertyValue", "name": field, "alternateName": label,
                                "propertyID": emg_iri(field)}
        if isinstance(value, dict):
            prop["value"] = value.get("value")
            if value.get("unit"):
                prop["unitText"] = value["unit"]
        else:
            prop["value"] = value
        out.append(prop)
    return out
