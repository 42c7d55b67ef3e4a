"""Units, profiles, times, sanitising, the registry and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from nexuslims_kernel.errors import ConfigError
from nexuslims_kernel.extract.profiles import parse_profiles, pick_profile
from nexuslims_kernel.extract.registry import REGISTRY, Extractor
from nexuslims_kernel.extract.sanitize import jsonable
from nexuslims_kernel.extract.times import acquisition_time
from nexuslims_kernel.extract.units import KNOWN, canonical_unit


def test_unit_table_agrees_with_pint():
    pint = pytest.importorskip("pint")
    ureg = pint.UnitRegistry()
    vendor_meanings = {"A", "1/A", "A_current", "x", "", "Torr"}  # 'A' is ångström in EM files, ampere in pint
    for spelling, canonical in KNOWN.items():
        if spelling not in vendor_meanings:
            assert format(ureg.Unit(spelling), "~") == canonical, spelling
    assert canonical_unit("furlong") == "fur"


def test_profiles_apply_and_validate():
    profiles = parse_profiles({"instruments": {"Titan": {"timezone": "America/New_York", "set": {"microscope": "FEI Titan"},
                                                          "default": {"detector": "Ceta"}, "match": {"microscope": "titan"}}}})
    prof = pick_profile(profiles, None, {"microscope": "Titan G2"})
    assert prof is not None and prof.timezone == "America/New_York"
    out = prof.apply({"microscope": "x", "detector": "HAADF"})
    assert out == {"microscope": "FEI Titan", "detector": "HAADF", "instrument": "Titan"}
    with pytest.raises(ConfigError):
        parse_profiles({"instruments": {"T": {"timezone": "Mars/Olympus"}}})
    with pytest.raises(ConfigError):
        parse_profiles({"instruments": {"T": {"colour": "red"}}})


def test_naive_time_uses_profile_zone():
    when, source, warnings = acquisition_time({"date": "2021-06-08", "time": "12:00:00"}, None, "America/New_York")
    assert when == "2021-06-08T12:00:00-04:00" and source == "file" and "America/New_York" in warnings[0]
    when, _, warnings = acquisition_time({"date": "2021-06-08", "time": "12:00:00", "time_zone": "+02:00"}, None, None)
    assert when.endswith("+02:00") and not warnings


def test_sanitise_raw_metadata():
    raw = {"a": np.float32(1.5), "b": b"text\x00", "c": np.arange(1000), "d": {"e": np.array([1 + 2j])},
           "f": float("nan"), "g": np.int64(3)}
    out = jsonable(raw)
    json.dumps(out)
    assert out["a"] == 1.5 and out["b"] == "text" and out["c"]["truncated"] and out["f"] is None and out["g"] == 3


def test_register_in_process_plugin(tmp_path):
    class Hello(Extractor):
        name = "test-hello"
        priority = 300
        extensions = ("hello",)

        def read(self, path, fmt):
            return [{"data": np.arange(10.0), "axes": [{"name": "E", "size": 10, "units": "eV", "navigate": False}],
                     "metadata": {"General": {"date": "2020-01-01", "time": "00:00:00", "time_zone": "UTC"}},
                     "original_metadata": {"k": 1}}]

    from nexuslims_kernel.extract import extract_file, register, unregister

    register(Hello)
    try:
        path = tmp_path / "x.hello"
        path.write_text("hi")
        res = extract_file(path, preview_dir=tmp_path)
        assert res.extractor == "test-hello" and res.datasets[0].dataset_type == "Spectrum"
        assert res.datasets[0].preview
    finally:
        unregister("test-hello")
    assert all(e.name != "test-hello" for e in REGISTRY.extractors())


@pytest.mark.corpus
def test_cli_one_small_file_gives_one_json_document(corpus, tmp_path):
    """Its start-up time is measured in benchmarks/bench_extract.py, not asserted here."""
    exe = os.path.join(os.path.dirname(sys.executable), "nxhub")
    out = subprocess.run([exe, "extract", str(corpus / "rosettasciio/dm/test_STEM_image.dm3"), "--json",
                          "--preview", str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    (doc,) = json.loads(out.stdout)
    assert doc["datasets"][0]["dataset_type"] == "Image" and doc["datasets"][0]["preview"]


def test_cli_errors_exit_3(tmp_path):
    bad = tmp_path / "bad.dm3"
    bad.write_bytes(b"nonsense" * 10)
    exe = os.path.join(os.path.dirname(sys.executable), "nxhub")
    out = subprocess.run([exe, "extract", str(bad), "--json"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 3
    assert json.loads(out.stdout)[0]["error"]
