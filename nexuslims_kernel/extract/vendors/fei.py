"""FEI/Thermo Fisher TIFF (SEM, DualBeam, and Titan TEM exports): the INI text in tag 34682.

rosettasciio reads these files well while they are whole; this plugin keeps the
metadata when they are not. The tag's bytes are parsed leniently (hand-edited
text: duplicate keys, stray lines, values with units typed in), and pixels are
only read when every strip lies inside the file. FEI writes SI units: V, A, m,
s, and stage and scan angles in radians.
"""

from __future__ import annotations

from typing import Any

from nexuslims_kernel.extract.vendors.inifile import decode, parse_ini
from nexuslims_kernel.extract.vendors.quantities import Spec
from nexuslims_kernel.extract.vendors.tiffbase import VendorTiffExtractor

FEI_TAG = 34682

# normalised field -> FEI keys ("Section.Key"), best first, with the unit FEI writes
FEI: dict[str, list[Spec]] = {
    "microscope": [("System.SystemType", None), ("System.Type", None)],
    "operator": [("User.User", None)],
    "software": [("System.Software", None)],
    "detector": [("Detectors.Name", None)],
    "acceleration_voltage": [("Beam.HV", "V"), ("EBeam.HV", "V"), ("IBeam.HV", "V")],
    "beam_current": [("EBeam.BeamCurrent", "A"), ("IBeam.BeamCurrent", "A"), ("Beam.BeamCurrent", "A")],
    "emission_current": [("EBeam.EmissionCurrent", "A"), ("IBeam.EmissionCurrent", "A")],
    "dwell_time": [("Scan.Dwelltime", "s"), ("EScan.Dwell", "s"), ("IScan.Dwell", "s")],
    "working_distance": [("Stage.WorkingDistance", "m"), ("EBeam.WD", "m"), ("IBeam.WD", "m")],
    "field_of_view": [("Scan.HorFieldsize", "m"), ("EBeam.HFW", "m"), ("IBeam.HFW", "m")],
    "scan_rotation": [("Beam.ScanRotation", "rad"), ("EBeam.ScanRotation", "rad")],
    "stage.x": [("Stage.StageX", "m")],
    "stage.y": [("Stage.StageY", "m")],
    "stage.z": [("Stage.StageZ", "m")],
    "stage.alpha": [("Stage.StageT", "rad"), ("Stage.StageA", "rad")],
    "stage.beta": [("Stage.StageTb", "rad"), ("Stage.StageB", "rad")],
    "stage.rotation": [("Stage.StageR", "rad")],
}


class FeiTiffExtractor(VendorTiffExtractor):
    name = "fei-tiff"
    tag = FEI_TAG
    label = "tif-fei"
    metadata_key = "fei_metadata"
    table = FEI
    time_keys = ("User.Date", "User.Time")
    pixel_keys = ("Scan.PixelWidth", "Scan.PixelHeight")

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bytes) and b"[" in value[:4096]

    def parse(self, value: Any) -> tuple[dict[str, Any], list[str]]:
        raw, skipped = parse_ini(decode(value))
        return raw, [f"{skipped} unreadable line(s) in the FEI metadata were skipped"] if skipped else []
