"""Files written here with HyperSpy/rosettasciio writers: the core suite without the corpus."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from nexuslims_kernel.extract import FileResult, extract_file

hs = pytest.importorskip("hyperspy.api")


def _image() -> np.ndarray:
    y, x = np.mgrid[0:96, 0:128]
    return (np.sin(x / 7.0) * np.cos(y / 5.0) * 1000 + 2000).astype("uint16")


def _spectrum_image():
    data = np.random.default_rng(0).poisson(5, (4, 5, 256)).astype("float32")
    s = hs.signals.Signal1D(data)
    s.axes_manager[-1].units = "eV"
    s.axes_manager[-1].scale = 0.5
    s.metadata.set_item("General.date", "2024-03-01")
    s.metadata.set_item("General.time", "10:11:12")
    s.metadata.set_item("General.time_zone", "Europe/Paris")
    s.metadata.set_item("Acquisition_instrument.TEM.beam_energy", 300.0)
    s.metadata.set_item("Acquisition_instrument.TEM.Detector.EELS.collection_angle", 20.0)
    s.metadata.set_item("Signal.signal_type", "EELS")
    return s


CASES = {
    "image.hspy": (lambda: hs.signals.Signal2D(_image()), "Image", [96, 128]),
    "image.zspy": (lambda: hs.signals.Signal2D(_image()), "Image", [96, 128]),
    "image.tif": (lambda: hs.signals.Signal2D(_image()), "Image", [96, 128]),
    "stack.mrcz": (lambda: hs.signals.Signal2D(np.stack([_image()] * 3)), "Image", [3, 96, 128]),
    "spectrum.msa": (lambda: hs.signals.Signal1D(np.hanning(300) * 100), "Spectrum", [300]),
    "si.hspy": (_spectrum_image, "SpectrumImage", [4, 5, 256]),
    "ncem.emd": (lambda: hs.signals.Signal2D(_image()), "Image", [96, 128]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_written_file(name, tmp_path):
    make, kind, shape = CASES[name]
    path = tmp_path / name
    make().save(path, overwrite=True)
    res = extract_file(path, preview_dir=tmp_path / "previews", preview_size=128)
    assert res.error is None, res.error
    ds = res.datasets[0]
    assert ds.dataset_type == kind
    assert ds.shape == shape
    pixels = np.asarray(Image.open(ds.preview))
    assert max(pixels.shape[:2]) == 128 and pixels.min() != pixels.max()
    again = FileResult.from_dict(json.loads(json.dumps(res.to_dict())))
    assert again == res


def test_normalised_metadata_and_time_zone(tmp_path):
    path = tmp_path / "si.hspy"
    _spectrum_image().save(path)
    md = extract_file(path).datasets[0].metadata
    assert md["acquisition_time"] == "2024-03-01T10:11:12+01:00"
    assert md["acquisition_time_source"] == "file"
    assert md["acceleration_voltage"] == {"value": 300.0, "unit": "kV"}
    assert md["eels"]["collection_angle"] == {"value": 20.0, "unit": "mrad"}
    assert md["axes"][-1]["units"] == "eV" and md["axes"][0]["navigate"]


def test_preview_overwritten_on_rebuild(tmp_path):
    path = tmp_path / "image.hspy"
    hs.signals.Signal2D(_image()).save(path)
    first = extract_file(path, preview_dir=tmp_path).datasets[0].preview
    second = extract_file(path, preview_dir=tmp_path).datasets[0].preview
    assert first == second and len(list(tmp_path.glob("*.png"))) == 1


def test_no_date_falls_back_to_mtime(tmp_path):
    path = tmp_path / "image.tif"
    hs.signals.Signal2D(_image()).save(path)
    ds = extract_file(path).datasets[0]
    assert ds.metadata["acquisition_time_source"] == "mtime"
    assert "no acquisition time in file; using file modification time" in ds.warnings


def test_unknown_file_gets_basic_info(tmp_path):
    path = tmp_path / "notes.xyz"
    path.write_text("hello")
    res = extract_file(path)
    assert res.error is None and res.format == "unknown" and res.size == 5
    assert res.datasets[0].dataset_type == "Unknown" and res.datasets[0].preview is None
