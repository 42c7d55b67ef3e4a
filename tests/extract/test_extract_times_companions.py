"""Naive, date-only and placeholder times; companion pairs; the extractor version."""

from __future__ import annotations

import datetime as dt
import os
import time
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from nexuslims_kernel.extract import extract_file, split_companions
from nexuslims_kernel.extract.profiles import Profile
from nexuslims_kernel.extract.times import acquisition_time

NY = "America/New_York"
PROFILES = {"ny-tem": Profile(name="ny-tem", timezone=NY)}
hs = pytest.importorskip("hyperspy.api")


@pytest.fixture
def local_zone_tokyo(monkeypatch):
    """This machine's local zone, made explicit (the CI host runs in UTC)."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _rpl(tmp_path, date="2024-01-15", clock="10:00:00"):
    s = hs.signals.Signal2D(np.arange(32 * 48, dtype="uint16").reshape(32, 48))
    s.metadata.set_item("General.date", date)
    s.metadata.set_item("General.time", clock)
    path = tmp_path / "scan.rpl"
    s.save(path)
    return path


def test_naive_rpl_time_in_the_instrument_zone(tmp_path):
    ds = extract_file(_rpl(tmp_path), instrument="ny-tem", profiles=PROFILES).datasets[0]
    assert ds.metadata["acquisition_time"] == "2024-01-15T10:00:00-05:00"
    assert ds.metadata["acquisition_time_source"] == "file"
    assert any(NY in w for w in ds.warnings)


def test_naive_time_without_profile_uses_local_zone_and_names_it(tmp_path, local_zone_tokyo):
    ds = extract_file(_rpl(tmp_path), profiles={}).datasets[0]
    assert ds.metadata["acquisition_time"] == "2024-01-15T10:00:00+09:00"
    assert any("local time zone (JST)" in w for w in ds.warnings)


def test_naive_time_local_zone_follows_daylight_saving(monkeypatch):
    monkeypatch.setenv("TZ", NY)
    time.tzset()
    try:
        winter, _, _ = acquisition_time({"date": "2024-01-15", "time": "10:00:00"}, None, None)
        summer, _, _ = acquisition_time({"date": "2024-07-15", "time": "10:00:00"}, None, None)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert winter.endswith("-05:00") and summer.endswith("-04:00")


def test_reader_local_zone_is_not_trusted_for_phenom():
    when, _, warnings = acquisition_time({"date": "2019-08-07", "time": "09:37:31", "time_zone": "UTC"}, None, NY,
                                         fmt="elid")
    assert when == "2019-08-07T09:37:31-04:00" and NY in warnings[0]


def _epoch(year, month, day, hour, minute, zone=NY):
    return dt.datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).timestamp()


def test_date_only_takes_time_of_day_from_mtime_on_that_date():
    when, source, warnings = acquisition_time({"date": "2024-03-01"}, _epoch(2024, 3, 1, 14, 30), NY)
    assert (when, source) == ("2024-03-01T14:30:00-05:00", "file-date")
    assert "only a date" in warnings[0]


def test_date_only_on_another_day_falls_back_to_mtime():
    when, source, warnings = acquisition_time({"date": "2024-03-01"}, _epoch(2024, 5, 2, 9, 0), NY)
    assert source == "mtime" and "only a date" in warnings[0] and "modification time" in warnings[0]
    assert dt.datetime.fromisoformat(when).timestamp() == _epoch(2024, 5, 2, 9, 0)


def test_date_only_file_is_not_midnight(tmp_path):
    s = hs.signals.Signal1D(np.hanning(64))
    s.metadata.set_item("General.date", "2024-03-01")
    path = tmp_path / "spectrum.hspy"
    s.save(path)
    os.utime(path, (_epoch(2024, 3, 1, 16, 5), _epoch(2024, 3, 1, 16, 5)))
    md = extract_file(path, instrument="ny-tem", profiles=PROFILES).datasets[0].metadata
    assert md["acquisition_time"] == "2024-03-01T16:05:00-05:00"
    assert md["acquisition_time_source"] == "file-date"


@pytest.mark.parametrize("date", ["1970-01-02", "1904-01-01", "1989-12-31"])
def test_placeholder_dates_count_as_missing(date):
    when, source, warnings = acquisition_time({"date": date, "time": "00:00:00", "time_zone": "UTC"}, 1.7e9, None)
    assert source == "mtime" and "placeholder" in warnings[0]
    assert dt.datetime.fromisoformat(when).timestamp() == 1.7e9


def test_blockfile_default_timestamp_falls_back_to_mtime(tmp_path):
    s = hs.signals.Signal2D(np.random.default_rng(0).integers(0, 200, (2, 3, 16, 16)).astype("uint8"))
    path = tmp_path / "default.blo"
    s.save(path)
    ds = extract_file(path).datasets[0]
    assert ds.metadata["acquisition_time_source"] == "mtime"
    assert any("placeholder" in w for w in ds.warnings)


def test_ripple_raw_is_a_companion_not_a_dataset(tmp_path):
    path = _rpl(tmp_path)
    raw = str(path.with_suffix(".raw"))
    assert split_companions([str(path), raw]) == {str(path): [raw]}
    assert extract_file(path).companions == [raw]


def test_ripple_pair_in_mixed_case_is_read_as_one_dataset(tmp_path):
    """Instrument PCs write x.rpl beside x.RAW: still one dataset with its companion."""
    path = _rpl(tmp_path)
    raw = path.with_suffix(".raw").rename(path.with_suffix(".RAW"))
    assert split_companions([str(path), str(raw)]) == {str(path): [str(raw)]}
    result = extract_file(path)
    assert result.companions == [str(raw)] and not result.error


def test_companion_pairs(tmp_path):
    names = ["a.rpl", "a.raw", "b.mib", "b.hdr", "c.emi", "c_1.ser", "c_2.ser", "d_movie.mrc", "d_info.txt",
             "e.mrc", "e_info.txt", "f.hspy", "g.spd", "g.ipr", "g.spc", "h.spc", "t_000.tvips", "t_001.tvips",
             "lone.raw", "lone.hdr"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    groups = split_companions([str(tmp_path / n) for n in names])
    short = {os.path.basename(k): sorted(os.path.basename(c) for c in v) for k, v in groups.items()}
    assert short == {"a.rpl": ["a.raw"], "b.mib": ["b.hdr"], "c.emi": ["c_1.ser", "c_2.ser"],
                     "d_movie.mrc": ["d_info.txt"], "e.mrc": ["e_info.txt"], "f.hspy": [],
                     "g.spd": ["g.ipr", "g.spc"], "h.spc": [], "t_000.tvips": ["t_001.tvips"],
                     "lone.raw": [], "lone.hdr": []}


def test_extractor_version_names_both_versions_and_is_what_the_builder_stores():
    import importlib.metadata

    from nexuslims_kernel import __version__
    from nexuslims_kernel.builder.extraction import extractor_version
    from nexuslims_kernel.extract import EXTRACTOR_VERSION

    assert EXTRACTOR_VERSION.startswith(__version__)
    assert EXTRACTOR_VERSION.endswith("rsciio" + importlib.metadata.version("rosettasciio"))
    assert extractor_version() == EXTRACTOR_VERSION and len(EXTRACTOR_VERSION) <= 50
