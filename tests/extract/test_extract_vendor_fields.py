"""Per-vendor field tables, checked against the real corpus: every key path resolves somewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import primary_rows

from nexuslims_kernel.extract import extract_file
from nexuslims_kernel.extract.registry import REGISTRY, read_head
from nexuslims_kernel.extract.vendor_fields import VENDOR_FIELDS, lookup

pytestmark = pytest.mark.corpus

KV = "kV"
# relpath -> fields the per-vendor tables must now give (manifest: has_instrument / has_operator = metadata)
EXPECTED = {
    "rosettasciio/dm/multi_signal.dm3": {"microscope": "Example Microscope", "operator": "JohnDoe",
                                         "detector": "GIF CCD", "magnification": 10000000.0,
                                         "camera_length": {"value": 77.0, "unit": "mm"},
                                         "illumination_mode": "STEM NANOPROBE"},
    "rosettasciio/dm/test-EELS_spectrum.dm3": {"microscope": "FEI Titan", "detector": "US1000FTXP 1",
                                               "acceleration_voltage": {"value": 200.0, "unit": KV}},
    "rosettasciio/dm/test_stackbuilder_imagestack.dm3": {"microscope": "JEM-ARM200F", "detector": "DigiScan",
                                                         "magnification": 200000.0},
    "rosettasciio/dm/test-MonarcCL_mono-image.dm4": {"detector": "DigiScan", "acceleration_voltage": {"value": 3.0, "unit": KV}},
    "rosettasciio/tia/old/64x64_TEM_images_acquire.emi": {"microscope": "Tecnai 200 kV D2267 SuperTwin",
                                                          "operator": "ERIC", "magnification": 19500.0,
                                                          "acceleration_voltage": {"value": 200.0, "unit": KV}},
    "rosettasciio/velox/fei_example_tem_stack.emd": {"microscope": "Titan", "detector": "BM-Ceta",
                                                     "acceleration_voltage": {"value": 300.0, "unit": KV}},
    "rosettasciio/velox/Test SI 16x16 215 kx.emd": {"microscope": "Themis", "detector": "SuperXG21"},
    "rosettasciio/tiff_fei/FEI-Helios-Ebeam-8bits.tif": {"microscope": 'Helios NanoLab" 660', "operator": "supervisor",
                                                         "detector": "ETD",
                                                         "acceleration_voltage": {"value": 5.0, "unit": KV}},
    "rosettasciio/tiff_zeiss/test_tiff_Zeiss_SEM_1k.tif": {"microscope": "Merlin-61-08", "operator": "LIM",
                                                           "detector": "HE-SE2", "magnification": 105.0,
                                                           "acceleration_voltage": {"value": 25.0, "unit": KV}},
    "rosettasciio/bruker/bruker_nano.spx": {"detector": "XFlash 5010", "acceleration_voltage": {"value": 15.0, "unit": KV}},
    "rosettasciio/bruker/P45_the_default_job.bcf": {"magnification": 131.1433,
                                                    "working_distance": {"value": 7.69044, "unit": "mm"}},
    "rosettasciio/jeol/seq/1/1.ASW": {"microscope": "JEM-ARM200F(URP)", "acceleration_voltage": {"value": 200.0, "unit": KV}},
    "rosettasciio/jeol/met03.EDS": {"operator": "gatan"},
    "rosettasciio/mrc/20241021_00405_movie.mrc": {"detector": "DESim", "acceleration_voltage": {"value": 300.0, "unit": KV}},
    "rosettasciio/merlin/001_4x2_6bit.mib": {"detector": "Medipix 3RX"},
    "rosettasciio/phenom/Elid2Version4.elid": {"microscope": "PhenomXL", "detector": "bsd-all",
                                               "acceleration_voltage": {"value": 15.0, "unit": KV}},
}


@pytest.mark.parametrize("relpath", sorted(EXPECTED))
def test_vendor_fields_of_corpus_file(relpath, corpus):
    md = extract_file(corpus / relpath).datasets[0].metadata
    assert {k: md.get(k) for k in EXPECTED[relpath]} == EXPECTED[relpath]


def _raw_trees(path: Path) -> list[dict]:
    for extractor, label in REGISTRY.candidates(path, read_head(path)):
        return [s.get("original_metadata") or {} for s in extractor.read(path, label)]
    return []


def test_every_vendor_path_resolves_on_a_corpus_file(corpus):
    """A table row that matches no real file is a guess, not a mapping."""
    tables: dict[int, tuple[dict, list[str]]] = {}
    for fmt, table in VENDOR_FIELDS.items():
        tables.setdefault(id(table), (table, []))[1].append(fmt)
    files = {}
    for row in primary_rows():
        if row["format"] in VENDOR_FIELDS:
            files.setdefault(row["format"], []).append(corpus / row["relpath"])
    misses = []
    for table, fmts in tables.values():
        trees = [t for fmt in fmts for p in files.get(fmt, []) for t in _raw_trees(p)]
        for field, specs in table.items():
            misses += [f"{fmts[0]} {field}: {path}" for path, _ in specs
                       if not any(lookup(t, path) is not None for t in trees)]
    assert not misses
