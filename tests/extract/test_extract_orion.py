"""Zeiss Orion helium-ion TIFF, Zeiss XML and Fibics flavours, written here in their layouts."""

from __future__ import annotations

import numpy as np
from PIL import Image
from vendor_files import ORION_FIBICS_XML, ORION_ZEISS_XML, truncate, write_orion

from nexuslims_kernel.extract import extract_file


def _q(md, key):
    return (float(f"{md[key]['value']:.6g}"), md[key]["unit"])


def _stage(md):
    return {k: (round(v["value"], 6), v["unit"]) for k, v in md["stage_position"].items()}


def test_zeiss_flavour_gives_beam_scan_and_stage(tmp_path):
    res = extract_file(write_orion(tmp_path / "him.tif"), preview_dir=tmp_path / "pv")
    assert (res.format, res.extractor, res.error) == ("tif-orion-zeiss", "orion-zeiss-tiff", None)
    (ds,) = res.datasets
    md = ds.metadata
    assert _q(md, "acceleration_voltage") == (29.997, "kV")
    assert _q(md, "beam_current") == (0.000938, "nA")
    assert _q(md, "dwell_time") == (5e-07, "s")
    assert _q(md, "field_of_view") == (9.6, "µm") and _q(md, "scan_rotation") == (15.0, "deg")
    assert _q(md, "working_distance") == (11.977, "mm")
    assert _stage(md) == {"x": (12.5, "mm"), "y": (-3.25, "mm"), "z": (8.0, "mm"), "alpha": (0.0, "deg"),
                          "rotation": (45.0, "deg")}
    assert md["detector"] == "ETDetector" and md["ion_species"] == "Helium" and md["microscope"] == "NanoFab"
    assert [(p["value"], p["unit"]) for p in md["pixel_size"]] == [(100.0, "nm"), (100.0, "nm")]  # 9.6 µm / 96
    assert md["acquisition_time"].startswith("2024-03-05T14:22:10")
    pixels = np.asarray(Image.open(ds.preview))
    assert pixels.min() != pixels.max()


def test_fibics_flavour_gives_beam_scan_and_stage(tmp_path):
    res = extract_file(write_orion(tmp_path / "npve.tif", ORION_FIBICS_XML, 51023), preview_dir=tmp_path / "pv")
    assert (res.format, res.extractor) == ("tif-orion-fibics", "orion-fibics-tiff")
    md = res.datasets[0].metadata
    assert _q(md, "acceleration_voltage") == (30.0, "kV") and _q(md, "beam_current") == (0.00052, "nA")
    assert _q(md, "dwell_time") == (1e-05, "s") and _q(md, "field_of_view") == (2.5, "µm")
    assert _q(md, "scan_rotation") == (30.0, "deg")
    assert _stage(md) == {"x": (1.5, "mm"), "y": (-0.25, "mm"), "z": (8.0, "mm"), "alpha": (5.0, "deg"),
                          "rotation": (90.0, "deg")}
    assert md["detector"] == "ET" and md["microscope"] == "Orion" and md["software"] == "NPVE v4.5"


def test_truncated_orion_keeps_metadata_without_preview(tmp_path):
    whole = write_orion(tmp_path / "whole.tif")
    res = extract_file(truncate(whole, tmp_path / "cut.tif", 0.6), preview_dir=tmp_path / "pv")
    (ds,) = res.datasets
    assert res.error is None and ds.preview is None and ds.dataset_type == "Image"
    assert _q(ds.metadata, "acceleration_voltage") == (29.997, "kV")
    assert any("pixels could not be read" in w for w in ds.warnings)


def test_hand_edited_xml_is_recovered(tmp_path):
    edited = ORION_ZEISS_XML.replace("<DwellTime><Value>0.5</Value><Units>us</Units></DwellTime>",
                                     "<DwellTime><Value>0.5</Value><Units>us</Units></DwellTime><Broken>")
    res = extract_file(write_orion(tmp_path / "edited.tif", edited), preview_dir=tmp_path / "pv")
    md = res.datasets[0].metadata
    assert res.error is None and _q(md, "acceleration_voltage") == (29.997, "kV")
    assert _q(md, "dwell_time") == (5e-07, "s")
