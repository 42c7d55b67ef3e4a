"""Tofwerk fibTOF TOF-SIMS HDF5 written here in TofDAQ's layout: type, mass axis, ions, time, preview."""

from __future__ import annotations

import numpy as np
from PIL import Image
from vendor_files import truncate, write_tofwerk

from nexuslims_kernel.extract import extract_file
from nexuslims_kernel.extract.registry import REGISTRY


def test_tofwerk_is_recognised_by_content_and_typed_spectrum_image(tmp_path):
    path = write_tofwerk(tmp_path / "depth_profile.h5")
    labels = [label for _, label in REGISTRY.candidates(path)]
    assert labels[0] == "tofwerk-sims"  # first among the .h5 readers that claim the extension
    res = extract_file(path, preview_dir=tmp_path / "pv", preview_size=200)
    assert (res.format, res.extractor, res.error) == ("tofwerk-sims", "tofwerk-sims", None)
    (ds,) = res.datasets
    md = ds.metadata
    assert ds.dataset_type == "SpectrumImage" and ds.shape == [3, 8, 10, 4]
    mass = md["axes"][-1]
    assert (mass["name"], mass["units"], mass["size"], mass.get("non_uniform")) == ("m/z", "Th", 4, True)
    assert md["ion_species"] == ["nominal 12", "Si+", "O2+", "Xe+"] and md["ion_polarity"] == "positive"
    assert md["acquisition_time"] == "2024-03-05T14:22:10+01:00" and md["acquisition_time_source"] == "file"
    assert md["acceleration_voltage"] == {"value": 30.0, "unit": "kV"}
    assert md["beam_current"] == {"value": 1.0, "unit": "nA"} and md["field_of_view"] == {"value": 50.0, "unit": "µm"}
    assert [(p["axis"], p["value"], p["unit"]) for p in md["pixel_size"]][1:] == [("y", 5.0, "µm"), ("x", 5.0, "µm")]
    pixels = np.asarray(Image.open(ds.preview).convert("L"))
    assert pixels.shape == (200, 200)
    image, spectrum = pixels[:120], pixels[120:]
    assert image.min() != image.max() and spectrum.min() != spectrum.max()  # both parts drawn, neither blank


def test_raw_event_list_files_stay_with_rosettasciio(tmp_path):
    import h5py

    path = write_tofwerk(tmp_path / "raw.h5")
    with h5py.File(path, "a") as h5:
        del h5["PeakData/PeakData"]
    assert "tofwerk-sims" not in [label for _, label in REGISTRY.candidates(path)]


def test_file_without_fib_parameters_or_log_keeps_type_and_says_what_is_missing(tmp_path):
    import h5py

    path = write_tofwerk(tmp_path / "edited.h5")
    with h5py.File(path, "a") as h5:
        del h5["FIBParams"]
        del h5["AcquisitionLog/Log"]
    res = extract_file(path, preview_dir=tmp_path / "pv")
    (ds,) = res.datasets
    assert res.error is None and ds.dataset_type == "SpectrumImage" and ds.preview
    assert "acceleration_voltage" not in ds.metadata and ds.metadata["ion_species"][1] == "Si+"
    assert any("no FIBParams group" in w for w in ds.warnings)
    assert any("no readable AcquisitionLog" in w for w in ds.warnings)


def test_truncated_tofwerk_file_is_a_clear_error(tmp_path):
    cut = truncate(write_tofwerk(tmp_path / "whole.h5"), tmp_path / "cut.h5", 0.5)
    res = extract_file(cut, preview_dir=tmp_path / "pv")
    assert res.error and "\n" not in res.error
