"""Normalised floats carry the file's precision, not binary noise (magnification 320, not 320.00000000000006)."""

from __future__ import annotations

import re

import pytest

from nexuslims_kernel.extract import extract_file
from nexuslims_kernel.extract.sanitize import tidy_float

NOISE = re.compile(r"\d\.\d*(?:0{6,}|9{6,})\d")  # 320.00000000000006, 0.004999999888241291


@pytest.mark.parametrize(("raw", "tidy"), [
    (320.00000000000006, 320.0), (0.028449299999999997, 0.0284493), (0.004999999888241291, 0.005),
    (-0.5000000074505806, -0.5), (2.1000000000000002e-05, 2.1e-05), (0.1, 0.1), (1 / 3, 0.333333333333333),
    (123456789.0, 123456789.0), (0.0, 0.0), (1e300, 1e300), (1.0000012, 1.0000012), (-9.200000050668677e-05, -9.2e-05),
    (0.12345678912, 0.12345678912), (366.90000000000003, 366.9),
])
def test_tidy_float(raw: float, tidy: float) -> None:
    assert tidy_float(raw) == tidy


def _floats(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _floats(v)
    elif isinstance(value, list):
        for v in value:
            yield from _floats(v)


@pytest.mark.corpus
@pytest.mark.parametrize("rel", ["rosettasciio/dm/test_diffraction_pattern.dm3",
                                 "rosettasciio/dm/test_fft_packed_complex8.dm4", "rosettasciio/tiff_other/TVIPS_bin4.tif"])
def test_corpus_metadata_has_no_float_noise(corpus, rel) -> None:
    ds = extract_file(corpus / rel, profiles={}).datasets[0]
    noisy = [x for x in _floats(ds.metadata) if NOISE.search(repr(x))]
    assert noisy == []
    if rel.endswith("test_diffraction_pattern.dm3"):
        assert ds.metadata["magnification"] == 320
