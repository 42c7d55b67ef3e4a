"""Zeiss Orion helium-ion microscope TIFF, in its two flavours.

- Zeiss (Orion / NanoFab software): tag 65000 holds ``<ImageTags>`` XML where
  each parameter is an element with ``<Value>`` and ``<Units>`` children,
  grouped by subsystem (e.g. ``<GFIS><BeamCurrent>``).
- Fibics (NPVE software): tag 51023 holds ``<Fibics>`` XML with sections
  (``Application``, ``Image``, ``Scan``, ``Stage``, ``BeamInfo``,
  ``DetectorInfo``); values are element text, units a ``units`` attribute, and
  ``BeamInfo`` / ``DetectorInfo`` list ``<item name="...">`` entries.

XML is parsed with lxml in recover mode, without entities or network, so a
hand-edited or cut tag still yields what it holds.
"""

from __future__ import annotations

from typing import Any

from nexuslims_kernel.extract.vendors.inifile import decode
from nexuslims_kernel.extract.vendors.quantities import Spec
from nexuslims_kernel.extract.vendors.tiffbase import VendorTiffExtractor

ZEISS_TAG = 65000
FIBICS_TAG = 51023

# normalised field -> keys in the parsed XML tree, best first, with the unit assumed when none is given
ORION_ZEISS: dict[str, list[Spec]] = {
    "microscope": [("System.Model", None), ("Model", None)],
    "operator": [("User", None), ("UserName", None)],
    "detector": [("DetectorName", None), ("Detector", None)],
    "ion_species": [("GFIS.IonGas", None), ("IonGas", None)],
    "acceleration_voltage": [("AccelerationVoltage", "V"), ("GFIS.AccelerationVoltage", "V"),
                             ("AcceleratorVoltage", "V")],
    "beam_current": [("GFIS.BeamCurrent", "pA"), ("BeamCurrent", "pA"), ("BeamI", "pA")],
    "dwell_time": [("DwellTime", "us"), ("Scan.DwellTime", "us")],
    "working_distance": [("WorkingDistance", "mm"), ("WD", "mm")],
    "field_of_view": [("Fov", "um"), ("FieldOfView", "um"), ("FOV", "um")],
    "scan_rotation": [("ScanRotation", "deg"), ("ScanRotate", "deg")],
    "stage.x": [("StageX", "mm")],
    "stage.y": [("StageY", "mm")],
    "stage.z": [("StageZ", "mm")],
    "stage.alpha": [("StageTilt", "deg"), ("StageT", "deg")],
    "stage.rotation": [("StageRotate", "deg"), ("StageRotation", "deg"), ("StageR", "deg")],
}

ORION_FIBICS: dict[str, list[Spec]] = {
    "microscope": [("BeamInfo.Beam", None)],
    "software": [("Application.Version", None)],
    "detector": [("DetectorInfo.Detector", None), ("DetectorInfo.Name", None)],
    "acceleration_voltage": [("BeamInfo.AccV", "V"), ("BeamInfo.Accelerating Voltage", "V"), ("BeamInfo.Voltage", "V")],
    "beam_current": [("BeamInfo.BeamI", "pA"), ("BeamInfo.Beam Current", "pA"), ("BeamInfo.Current", "pA")],
    "dwell_time": [("Scan.Dwell", "ns")],
    "field_of_view": [("Scan.FOV_X", "um")],
    "scan_rotation": [("Scan.Rotation", "deg"), ("Scan.ScanRot", "deg")],
    "stage.x": [("Stage.X", "um")],
    "stage.y": [("Stage.Y", "um")],
    "stage.z": [("Stage.Z", "um")],
    "stage.alpha": [("Stage.Tilt", "deg")],
    "stage.rotation": [("Stage.Rot", "deg")],
}


def _xml_root(value: Any) -> Any:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    text = decode(value).strip().encode("utf-8")
    return etree.fromstring(text, parser=parser) if text else None


def _tree(element: Any) -> dict[str, Any]:
    """Element -> dict: a ``<Value>``/``<Units>`` pair or a ``units`` attribute becomes (value, unit)."""
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        key = child.get("name") if child.tag == "item" and child.get("name") else child.tag
        value_el = child.find("Value")
        if value_el is not None:
            unit_el = child.find("Units")
            out[key] = ((value_el.text or "").strip(), (unit_el.text or "").strip() if unit_el is not None else None)
        elif len(child):
            out[key] = _tree(child)
        else:
            out[key] = ((child.text or "").strip(), child.get("units") or child.get("unit"))
    return out


class _OrionTiff(VendorTiffExtractor):
    root_tag = ""

    def accepts(self, value: Any) -> bool:
        return f"<{self.root_tag}".encode() in (value if isinstance(value, bytes) else str(value).encode())[:4096]

    def parse(self, value: Any) -> tuple[dict[str, Any], list[str]]:
        root = _xml_root(value)
        if root is None:
            return {}, [f"the {self.root_tag} XML in the file could not be read"]
        warnings = []
        tree = _tree(root)
        if not tree:
            warnings.append(f"the {self.root_tag} XML in the file holds no readable values")
        return tree, warnings

    def getter(self, raw: dict[str, Any], key: str) -> Any:
        from nexuslims_kernel.extract.vendors.quantities import dotted

        found = dotted(raw, key)
        if isinstance(found, tuple) and not found[0]:
            return None
        return found


class OrionZeissTiffExtractor(_OrionTiff):
    name = "orion-zeiss-tiff"
    tag = ZEISS_TAG
    label = "tif-orion-zeiss"
    metadata_key = "orion_metadata"
    table = ORION_ZEISS
    root_tag = "ImageTags"
    time_keys = ("TimeStamp",)


class OrionFibicsTiffExtractor(_OrionTiff):
    name = "orion-fibics-tiff"
    tag = FIBICS_TAG
    label = "tif-orion-fibics"
    metadata_key = "fibics_metadata"
    table = ORION_FIBICS
    root_tag = "Fibics"
    time_keys = ("Application.Date",)
