"""A TIA .ser copied without its .emi keeps its data and own acquisition time, and says the .emi is missing."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pytest
from PIL import Image
from vendor_files import truncate, write_ser

from nexuslims_kernel.extract import extract_file

SER = "rosettasciio/tia/old/16x16_STEM_BF_DF_acquire_1.ser"
EMI = "rosettasciio/tia/old/16x16_STEM_BF_DF_acquire.emi"


def test_written_ser_alone_gives_its_time_calibration_and_a_warning(tmp_path):
    res = extract_file(write_ser(tmp_path / "probe_1.ser"), preview_dir=tmp_path / "pv")
    assert (res.extractor, res.error) == ("tia-ser-alone", None)
    (ds,) = res.datasets
    md = ds.metadata
    assert ds.dataset_type == "Image" and ds.shape == [12, 16]
    assert md["acquisition_time"] == "2024-03-05T14:22:10+00:00" and md["acquisition_time_source"] == "file"
    assert [(p["value"], p["unit"]) for p in md["pixel_size"]] == [(0.2, "nm"), (0.2, "nm")]
    assert ds.warnings == ["the .emi file (probe.emi) is missing: microscope settings (voltage, mode, "
                           "magnification, user) are not available; kept what the .ser holds"]
    pixels = np.asarray(Image.open(ds.preview))
    assert pixels.min() != pixels.max()


def test_truncated_ser_alone_is_a_one_line_error(tmp_path):
    cut = truncate(write_ser(tmp_path / "whole_1.ser"), tmp_path / "cut_1.ser", 0.5)
    res = extract_file(cut, preview_dir=tmp_path / "pv")
    assert res.error and "\n" not in res.error


@pytest.mark.corpus
def test_ser_without_emi_keeps_data_and_time_with_a_warning(corpus, tmp_path):
    lone = tmp_path / "16x16_STEM_BF_DF_acquire_1.ser"
    shutil.copy(corpus / SER, lone)
    res = extract_file(lone, preview_dir=tmp_path / "pv")
    assert (res.extractor, res.format, res.error) == ("tia-ser-alone", "ser", None)
    (ds,) = res.datasets
    assert ds.dataset_type == "Image" and ds.shape == [16, 16]
    assert any("16x16_STEM_BF_DF_acquire.emi) is missing" in w for w in ds.warnings)
    assert ds.metadata["acquisition_time_source"] == "file" and ds.metadata["ser_elements"] == 1
    # The .ser's own clock is UTC; the .emi gives the instrument's wall time: same moment, whole hours apart.
    ser_time = dt.datetime.fromisoformat(ds.metadata["acquisition_time"])
    emi_time = dt.datetime.fromisoformat(extract_file(corpus / EMI).datasets[0].metadata["acquisition_time"])
    assert ser_time.utcoffset() == dt.timedelta(0)
    assert (emi_time - ser_time).total_seconds() % 3600 == 0 and abs(emi_time - ser_time) <= dt.timedelta(hours=14)
    pixels = np.asarray(Image.open(ds.preview))
    assert pixels.min() != pixels.max()


@pytest.mark.corpus
def test_ser_beside_its_emi_is_left_to_the_tia_reader(corpus):
    res = extract_file(corpus / SER)
    assert res.extractor == "tia" and not any("missing" in w for d in res.datasets for w in d.warnings)
