"""Every primary file of the real EM corpus: type, time, shape and a non-blank thumbnail."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO, manifest_rows, primary_rows
from PIL import Image

from nexuslims_kernel.extract import extract_file, split_companions

pytestmark = pytest.mark.corpus

ROWS = primary_rows()
# The manifest marks this .ser "primary" to test reading a .ser alone; beside its .emi it is a companion.
KNOWN_ROLE_DIFFERENCES = {"rosettasciio/tia/old/64x64_TEM_images_acquire_1.ser"}


@pytest.mark.parametrize("row", ROWS, ids=[r["relpath"] for r in ROWS])
def test_primary_file(row, corpus, tmp_path):
    res = extract_file(corpus / row["relpath"], preview_dir=tmp_path, preview_size=256)
    assert res.error is None, res.error
    assert res.datasets
    if "..." not in row["shape"]:
        assert ";".join("x".join(map(str, d.shape)) for d in res.datasets) == row["shape"]
    for ds in res.datasets:
        assert ds.error is None, ds.error
        assert ds.dataset_type in ("Image", "Spectrum", "SpectrumImage", "Diffraction", "Misc")
        assert ds.metadata["acquisition_time"]
        source = ds.metadata["acquisition_time_source"]
        date_only = any("only a date" in w for w in ds.warnings)  # e.g. DM/HSPY with a date but no time
        if row["has_datetime"] == "metadata" and not date_only:
            assert source == "file"
        else:
            assert source in ("file", "file-date", "mtime")
        pixels = np.asarray(Image.open(ds.preview))
        assert max(pixels.shape[:2]) == 256
        assert pixels.min() != pixels.max(), "thumbnail is a single colour"


def test_split_companions_matches_manifest(corpus):
    rows = manifest_rows()
    groups = split_companions([str(corpus / r["relpath"]) for r in rows])
    for row in rows:
        if row["relpath"] in KNOWN_ROLE_DIFFERENCES:
            continue
        is_main = str(corpus / row["relpath"]) in groups
        assert is_main == (row["role"] == "primary"), row["relpath"]
    emi = str(corpus / "rosettasciio/tia/old/16x16_STEM_BF_DF_acquire.emi")
    assert len(groups[emi]) == 2


def test_whole_corpus_in_pool_stays_under_memory_budget(corpus):
    """All main files through two isolated workers, in a fresh process: no errors, peak RSS < 1.5 GB."""
    import json
    import subprocess
    import sys

    rows = manifest_rows()
    paths = [str(corpus / r["relpath"]) for r in rows if r["loads_ok"].startswith("yes") or r["role"] == "companion"]
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from bench_extract import run_ours; "
            "print(json.dumps(run_ours(sys.argv[2:], workers=2)))")
    out = subprocess.run([sys.executable, "-c", code, str(REPO / "benchmarks"), *paths],
                         capture_output=True, text=True, timeout=300, check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["n_errors"] == 0
    assert figures["n_datasets"] >= 170
    assert figures["peak_rss_mb"] < 1500
