"""The instrument's own time zone applies to naive vendor times; a profile's zone overrides it."""

from __future__ import annotations

import pytest
from naivetime import naive_rpl

from nexuslims_kernel.extract import ExtractionPool, extract_file
from nexuslims_kernel.extract.profiles import Profile

pytest.importorskip("hyperspy.api")
BERLIN = "Europe/Berlin"


def test_the_instruments_zone_applies_without_a_profile(tmp_path):
    ds = extract_file(naive_rpl(tmp_path), instrument="Titan", timezone=BERLIN, profiles={}).datasets[0]
    assert ds.metadata["acquisition_time"] == "2024-01-15T10:00:00+01:00"
    assert any(BERLIN in w for w in ds.warnings) and not any("local time zone" in w for w in ds.warnings)


def test_a_profiles_zone_overrides_the_instruments(tmp_path):
    profiles = {"Titan": Profile(name="Titan", timezone="America/New_York")}
    ds = extract_file(naive_rpl(tmp_path), instrument="Titan", timezone=BERLIN, profiles=profiles).datasets[0]
    assert ds.metadata["acquisition_time"] == "2024-01-15T10:00:00-05:00"


def test_a_profile_without_a_zone_keeps_the_instruments(tmp_path):
    profiles = {"Titan": Profile(name="Titan", set={"microscope": "Titan"})}
    ds = extract_file(naive_rpl(tmp_path), instrument="Titan", timezone=BERLIN, profiles=profiles).datasets[0]
    assert ds.metadata["acquisition_time"] == "2024-01-15T10:00:00+01:00" and ds.metadata["microscope"] == "Titan"


def test_the_pool_passes_the_zone_to_its_workers(tmp_path):
    paths = [naive_rpl(tmp_path, "a.rpl"), naive_rpl(tmp_path, "b.rpl")]
    with ExtractionPool(workers=1, timeout_s=60) as pool:
        results = pool.map(paths, instrument="Titan", timezone=BERLIN)
    assert [r.datasets[0].metadata["acquisition_time"] for r in results] == ["2024-01-15T10:00:00+01:00"] * 2
