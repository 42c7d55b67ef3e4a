"""Tescan and FEI/Thermo TIFF plugins on files written here in each vendor's layout.

Each file gives its listed fields with units; a truncated copy keeps its metadata,
its type and shape, with a warning and no preview; hand-edited text still parses.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from vendor_files import FEI_TEXT, TITAN_TEXT, tescan_blocks, truncate, write_fei, write_tescan

from nexuslims_kernel.extract import extract_file


def _q(md, key):
    return (round(md[key]["value"], 9), md[key]["unit"])


def _stage(md):
    return {k: (round(v["value"], 4), v["unit"]) for k, v in md["stage_position"].items()}


def _non_blank(preview):
    pixels = np.asarray(Image.open(preview))
    return pixels.min() != pixels.max()


def test_tescan_tiff_gives_beam_scan_stage_and_detector(tmp_path):
    res = extract_file(write_tescan(tmp_path / "amber.tif"), preview_dir=tmp_path / "pv")
    assert (res.format, res.extractor, res.error) == ("tif-tescan", "tescan-tiff", None)
    (ds,) = res.datasets
    md = ds.metadata
    assert ds.dataset_type == "Image" and ds.shape == [64, 96]
    assert _q(md, "acceleration_voltage") == (15.0, "kV")
    assert _q(md, "emission_current") == (185.0, "µA")
    assert _q(md, "beam_current") == (0.1, "nA")
    assert _q(md, "dwell_time") == (3.2e-06, "s")
    assert _q(md, "working_distance") == (6.12, "mm")
    assert _q(md, "field_of_view") == (0.45, "µm")  # 96 pixels of 4.6875 nm
    assert md["magnification"] == 25000 and md["detector"] == "SE" and md["microscope"] == "AMBER X"
    assert md["operator"] == "alice"
    assert _stage(md) == {"x": (3.51, "mm"), "y": (-1.22, "mm"), "z": (30.1, "mm"), "alpha": (52.0, "deg"),
                          "rotation": (-30.0, "deg")}
    assert [(p["value"], p["unit"]) for p in md["pixel_size"]] == [(4.6875, "nm"), (4.6875, "nm")]
    assert md["acquisition_time"].startswith("2024-03-05T14:22:10") and md["acquisition_time_source"] == "file"
    assert res.datasets[0].raw_metadata["tescan_metadata"]["SEM"]["HV"] == "15000"
    assert _non_blank(ds.preview)


def test_tescan_plain_ini_text_is_read_too(tmp_path):
    text = (b"[MAIN]\nPixelSizeX=1e-08\nPixelSizeY=1e-08\nDevice=MIRA\n[SEM]\nHV=5000\nWD=0.01\n")
    res = extract_file(write_tescan(tmp_path / "mira.tif", text), preview_dir=tmp_path / "pv")
    md = res.datasets[0].metadata
    assert res.format == "tif-tescan" and _q(md, "acceleration_voltage") == (5.0, "kV")
    assert _q(md, "working_distance") == (10.0, "mm") and md["microscope"] == "MIRA"


def test_truncated_tescan_keeps_metadata_type_and_shape_without_preview(tmp_path):
    whole = write_tescan(tmp_path / "whole.tif")
    res = extract_file(truncate(whole, tmp_path / "cut.tif"), preview_dir=tmp_path / "pv")
    assert res.error is None and res.format == "tif-tescan"
    (ds,) = res.datasets
    assert ds.error is None and ds.preview is None
    assert ds.dataset_type == "Image" and ds.shape == [64, 96]
    assert _q(ds.metadata, "acceleration_voltage") == (15.0, "kV")
    assert any("pixels could not be read" in w and "cut off" in w for w in ds.warnings)


def test_edited_tescan_header_skips_bad_lines_with_a_warning(tmp_path):
    blob = tescan_blocks(sem="HV=20000\nthis line was typed by hand\nWD=0.005\nWD=0.007\n")
    res = extract_file(write_tescan(tmp_path / "edited.tif", blob), preview_dir=tmp_path / "pv")
    (ds,) = res.datasets
    assert _q(ds.metadata, "acceleration_voltage") == (20.0, "kV")
    assert _q(ds.metadata, "working_distance") == (7.0, "mm")  # the last value wins, as in the instrument's reader
    assert any("1 unreadable line" in w for w in ds.warnings) and _non_blank(ds.preview)


def test_fei_tiff_gives_fields_with_units(tmp_path):
    res = extract_file(write_fei(tmp_path / "helios.tif"), preview_dir=tmp_path / "pv")
    assert (res.format, res.extractor, res.error) == ("tif-fei", "fei-tiff", None)
    (ds,) = res.datasets
    md = ds.metadata
    assert _q(md, "acceleration_voltage") == (15.0, "kV") and _q(md, "beam_current") == (0.1, "nA")
    assert _q(md, "emission_current") == (185.0, "µA") and _q(md, "dwell_time") == (3e-06, "s")
    assert _q(md, "working_distance") == (4.12, "mm") and _q(md, "field_of_view") == (0.45, "µm")
    assert _q(md, "scan_rotation") == (12.5, "deg")
    assert md["detector"] == "ETD" and md["microscope"] == "Helios 5 UX" and md["operator"] == "bob"
    assert _stage(md) == {"x": (3.51, "mm"), "y": (-1.22, "mm"), "z": (30.1, "mm"), "alpha": (52.0, "deg"),
                          "rotation": (30.0, "deg")}
    assert md["acquisition_time"].startswith("2024-03-05T14:22:10")
    assert _non_blank(ds.preview)


@pytest.mark.parametrize("keep", [0.5, 0.1])
def test_truncated_fei_keeps_metadata_and_type_without_preview(tmp_path, keep):
    whole = write_fei(tmp_path / "whole.tif")
    res = extract_file(truncate(whole, tmp_path / "cut.tif", keep), preview_dir=tmp_path / "pv")
    assert res.error is None and res.format == "tif-fei"
    (ds,) = res.datasets
    assert ds.dataset_type == "Image" and ds.preview is None and ds.error is None
    assert _q(ds.metadata, "acceleration_voltage") == (15.0, "kV") and ds.metadata["detector"] == "ETD"
    assert any("pixels could not be read" in w for w in ds.warnings)


def test_hand_edited_fei_text_still_gives_its_metadata(tmp_path):
    edited = FEI_TEXT.replace("HV=15000\nScanRotation", "HV=15 kV\nHV=16 kV\nnonsense without equals\nScanRotation")
    edited = "Stray line before any section\n" + edited
    res = extract_file(write_fei(tmp_path / "edited.tif", edited), preview_dir=tmp_path / "pv")
    assert res.error is None
    (ds,) = res.datasets
    assert _q(ds.metadata, "acceleration_voltage") == (16.0, "kV")  # typed-in unit honoured, last value wins
    assert _q(ds.metadata, "dwell_time") == (3e-06, "s")
    assert any("2 unreadable line" in w for w in ds.warnings) and _non_blank(ds.preview)


def test_titan_tem_tiff_export_gives_voltage_and_stage(tmp_path):
    res = extract_file(write_fei(tmp_path / "titan.tif", TITAN_TEXT), preview_dir=tmp_path / "pv")
    md = res.datasets[0].metadata
    assert res.format == "tif-fei" and md["microscope"] == "Titan"
    assert _q(md, "acceleration_voltage") == (300.0, "kV")
    assert _stage(md) == {"x": (0.012, "mm"), "y": (-0.045, "mm"), "z": (-0.0021, "mm"), "alpha": (15.0, "deg"),
                          "beta": (0.0, "deg")}
