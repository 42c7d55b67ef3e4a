"""`nxhub extract --instrument`: the hub's instrument zone for naive times; an unknown name exits 4."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extract"))
from naivetime import naive_rpl


def test_extract_uses_the_instruments_zone(nxhub, tmp_path) -> None:
    assert nxhub("init")[0] == 0
    assert nxhub("instruments", "add", "Titan", "--timezone", "Europe/Berlin")[0] == 0
    code, out, _ = nxhub("extract", str(naive_rpl(tmp_path)), "--json", "--instrument", "Titan")
    assert code == 0
    assert json.loads(out)[0]["datasets"][0]["metadata"]["acquisition_time"] == "2024-01-15T10:00:00+01:00"


def test_a_misspelled_instrument_exits_4(nxhub, tmp_path) -> None:
    assert nxhub("init")[0] == 0
    assert nxhub("instruments", "add", "Titan", "--timezone", "Europe/Berlin")[0] == 0
    code, out, err = nxhub("extract", str(naive_rpl(tmp_path)), "--json", "--instrument", "Titna")
    assert code == 4 and out == "" and "no instrument named 'Titna'" in err and err.count("\n") == 1


def test_a_profile_names_an_instrument_without_a_database(nxhub, tmp_path, monkeypatch) -> None:
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[instruments.Quanta]\ntimezone = "America/New_York"\n')
    monkeypatch.setenv("NXHUB_EXTRACT_PROFILES_FILE", str(profiles))
    code, out, _ = nxhub("extract", str(naive_rpl(tmp_path)), "--json", "--instrument", "Quanta")
    assert code == 0
    assert json.loads(out)[0]["datasets"][0]["metadata"]["acquisition_time"] == "2024-01-15T10:00:00-05:00"
