"""Normalised metadata: one flat dict per signal with EM Glossary-style names.

Input is a rosettasciio signal dict, whose ``metadata`` already follows
HyperSpy's conventions (``Acquisition_instrument.TEM.beam_energy`` in kV, ...);
per-vendor tables (:mod:`~nexuslims_kernel.extract.vendor_fields`) read the
vendor tree (``original_metadata``) first, and a generic key search fills what
neither maps (operator, instrument name, detector). Quantities are
``{"value": float, "unit": str}`` with pint's short unit spellings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nexuslims_kernel.extract.sanitize import jsonable, tidy_floats
from nexuslims_kernel.extract.times import acquisition_time
from nexuslims_kernel.extract.units import canonical_unit, quantity
from nexuslims_kernel.extract.vendor_fields import vendor_values

# hyperspy key under Acquisition_instrument.<TEM|SEM> -> (our key, unit)
_INSTRUMENT_FIELDS = {
    "beam_energy": ("acceleration_voltage", "kV"),
    "magnification": ("magnification", None),
    "dwell_time": ("dwell_time", "s"),
    "camera_length": ("camera_length", "mm"),
    "convergence_angle": ("convergence_angle", "mrad"),
    "beam_current": ("beam_current", "nA"),
    "working_distance": ("working_distance", "mm"),
}
_STAGE_FIELDS = {"x": ("x", "mm"), "y": ("y", "mm"), "z": ("z", "mm"),
                 "tilt_alpha": ("alpha", "deg"), "tilt_beta": ("beta", "deg"), "rotation": ("rotation", "deg")}
_EDS_FIELDS = {"live_time": ("live_time", "s"), "real_time": ("real_time", "s"),
               "energy_resolution_MnKa": ("energy_resolution", "eV"), "azimuth_angle": ("azimuth_angle", "deg"),
               "elevation_angle": ("elevation_angle", "deg")}
_EELS_FIELDS = {"collection_angle": ("collection_angle", "mrad"), "aperture_size": ("aperture_size", "mm"),
                "exposure": ("exposure_time", "s"), "dwell_time": ("dwell_time", "s")}

OPERATOR_KEYS = ("operator", "user", "username", "user_name", "owner", "authors", "author")
INSTRUMENT_KEYS = ("microscope", "instrument", "instrumentmodel", "microscope_name", "systemtype", "instrument_name")
DETECTOR_KEYS = ("detector", "detectorname", "detector_name", "signal")
TIME_LIKE_UNITS = {"s", "ms", "min", "h", "µs"}
RECIPROCAL_UNITS = ("1 / nm", "1 / Å", "1 / m", "1 / µm", "mrad", "rad")


def find_raw(tree: Any, keys: Iterable[str], limit: int = 20000) -> Any:
    """The first non-empty scalar under any of ``keys`` (case-insensitive), breadth-first."""
    wanted = {k.lower() for k in keys}
    queue = [tree]
    seen = 0
    while queue and seen < limit:
        node = queue.pop(0)
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            seen += 1
            if isinstance(value, dict):
                queue.append(value)
            elif str(key).lower() in wanted and isinstance(value, (str, bytes, int, float)) and str(value).strip():
                return value.decode(errors="replace") if isinstance(value, bytes) else value
    return None


def _axes(signal: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for i, ax in enumerate(signal.get("axes") or []):
        uniform = "axis" not in ax or ax.get("scale") is not None
        out.append({
            "name": str(ax.get("name") or f"axis{i}"),
            "size": int(ax.get("size") or 0),
            "scale": jsonable(ax.get("scale", 1.0)) if uniform else None,
            "offset": jsonable(ax.get("offset", 0.0)) if uniform else None,
            "units": canonical_unit(ax.get("units")) or "",
            "navigate": bool(ax.get("navigate", False)),
            **({} if uniform else {"non_uniform": True}),
        })
    return out


def _signal_axes(axes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [a for a in axes if not a["navigate"]]


def dataset_type(axes: list[dict[str, Any]], signal_type: str, mode: str = "") -> str:
    """Image / Spectrum / SpectrumImage / Diffraction / Misc from dimensions and units."""
    sig = _signal_axes(axes)
    nav = [a for a in axes if a["navigate"]]
    kind = f"{signal_type} {mode}".lower()
    if len(sig) == 1:
        axis = sig[0]
        if axis["units"] in TIME_LIKE_UNITS or axis["name"].lower() in ("time", "timestamp"):
            return "Misc"
        return "SpectrumImage" if nav else "Spectrum"
    if len(sig) == 2:
        units = {a["units"] for a in sig}
        if "diffraction" in kind or units & set(RECIPROCAL_UNITS) or len(nav) == 2:  # 4D-STEM
            return "Diffraction"
        return "Image"
    return "Misc"


def _instrument_section(md: dict[str, Any]) -> dict[str, Any]:
    ai = md.get("Acquisition_instrument") or {}
    for key in ("TEM", "SEM"):
        if isinstance(ai.get(key), dict):
            return ai[key]
    return next((v for v in ai.values() if isinstance(v, dict)), {})


def _copy_quantities(source: dict[str, Any], fields: dict[str, tuple[str, str | None]], target: dict[str, Any]) -> None:
    for src, (dst, unit) in fields.items():
        if src in source:
            q = quantity(source[src], unit)
            if q is not None:
                target[dst] = q if unit else q["value"]


def _detectors(inst: dict[str, Any], out: dict[str, Any]) -> None:
    det = inst.get("Detector") or {}
    if not isinstance(det, dict):
        return
    # (HyperSpy detector key, quantity fields, free-text field): EDS first, so it names the detector when both exist.
    for key, fields, text_field in (("EDS", _EDS_FIELDS, "detector_type"), ("EELS", _EELS_FIELDS, "spectrometer")):
        if not isinstance(det.get(key), dict):
            continue
        section: dict[str, Any] = {}
        _copy_quantities(det[key], fields, section)
        if det[key].get(text_field):
            section[text_field] = str(det[key][text_field])
        out[key.lower()] = section
        out.setdefault("detector", key)
    for name, sub in det.items():
        if isinstance(sub, dict):
            q = quantity(sub.get("exposure_time", sub.get("exposure")), "s")
            if q and "exposure_time" not in out:
                out["exposure_time"] = q
            if sub.get("detector_name") or sub.get("detector_type"):
                out.setdefault("detector", str(sub.get("detector_name") or sub.get("detector_type")))
        elif name in ("detector_name", "detector_type") and sub:
            out.setdefault("detector", str(sub))


def normalise(signal: dict[str, Any], *, mtime: float | None, profile_tz: str | None = None,
              fmt: str | None = None) -> tuple[dict[str, Any], str, list[str]]:
    """(normalised metadata, dataset type, warnings) for one rosettasciio signal dict.

    The vendor table of ``fmt`` (:mod:`~nexuslims_kernel.extract.vendor_fields`) wins; HyperSpy's
    mapped metadata and then a generic key search fill what it leaves out.
    """
    md = signal.get("metadata") or {}
    raw = signal.get("original_metadata") or {}
    general = md.get("General") or {}
    sig_md = md.get("Signal") or {}
    inst = _instrument_section(md)
    out: dict[str, Any] = {}

    when, source, warnings = acquisition_time(general, mtime, profile_tz, fmt)
    out["acquisition_time"] = when
    out["acquisition_time_source"] = source
    vendor = vendor_values(fmt or "", raw)
    vendor.update(signal.get("normalised") or {})  # fields a vendor plugin already normalised win
    warnings = [*warnings, *(signal.get("warnings") or [])]
    out.update(vendor)

    microscope = inst.get("microscope") or find_raw(raw, INSTRUMENT_KEYS)
    if microscope and "microscope" not in out:
        out["microscope"] = str(microscope).strip()
    operator = general.get("authors") or find_raw(raw, OPERATOR_KEYS)
    if operator and "operator" not in out:
        out["operator"] = str(operator).strip()

    mapped: dict[str, Any] = {}
    _copy_quantities(inst, _INSTRUMENT_FIELDS, mapped)
    out.update({k: v for k, v in mapped.items() if k not in vendor})
    stage: dict[str, Any] = {}
    _copy_quantities(inst.get("Stage") or {}, _STAGE_FIELDS, stage)
    if stage and "stage_position" not in vendor:
        out["stage_position"] = stage
    if inst.get("acquisition_mode"):
        out["acquisition_mode"] = str(inst["acquisition_mode"])
    _detectors(inst, out)
    if "detector" not in out:
        det = find_raw(raw, DETECTOR_KEYS)
        if det is not None and isinstance(det, str):
            out["detector"] = det.strip()

    signal_type = str(sig_md.get("signal_type") or "")
    if signal_type:
        out["signal_type"] = signal_type
    if sig_md.get("quantity"):
        out["quantity"] = str(sig_md["quantity"])
    elements = (md.get("Sample") or {}).get("elements")
    if elements is not None and len(elements):
        out.setdefault("eds", {})["elements"] = [str(e) for e in elements]
    if general.get("title"):
        out["title"] = str(general["title"])

    axes = _axes(signal)
    out["axes"] = axes
    kind = dataset_type(axes, signal_type, str(inst.get("acquisition_mode") or ""))
    if kind in ("Image", "Diffraction", "SpectrumImage"):
        spatial = [a for a in axes if a["navigate"] == (kind == "SpectrumImage")]
        if spatial:
            out["pixel_size"] = [{"axis": a["name"], "value": a["scale"], "unit": a["units"]} for a in spatial]
    return tidy_floats(jsonable(out)), kind, warnings
