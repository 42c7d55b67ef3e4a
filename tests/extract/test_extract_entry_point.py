"""A third-party extractor installed as a distribution is found through its entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pluginkit import plugin_env


def test_installed_plugin_extracts_its_format_through_the_entry_point(counting_plugin: Path, tmp_path: Path) -> None:
    sample = tmp_path / "probe.count"
    sample.write_text("COUNT probe one\n")
    log = tmp_path / "count.log"
    env = plugin_env({k: v for k, v in os.environ.items() if not k.startswith("NXHUB_")}, counting_plugin, log)
    env["NXHUB_DATA_DIR"] = str(tmp_path / "data")
    out = subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", "extract", str(sample), "--json"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    (result,) = json.loads(out.stdout)
    assert result["format"] == "count-text" and result["extractor"] == "test-counting"
    assert result["datasets"][0]["raw_metadata"]["CountFile"]["text"] == "COUNT probe one"
    assert log.read_text().count(str(sample)) == 1


def test_without_the_distribution_the_format_is_not_claimed(tmp_path: Path) -> None:
    sample = tmp_path / "probe.count"
    sample.write_text("COUNT probe one\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NXHUB_")} | {"NXHUB_DATA_DIR": str(tmp_path / "data")}
    out = subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", "extract", str(sample), "--json"],
                         env=env, capture_output=True, text=True, timeout=120)
    (result,) = json.loads(out.stdout)
    assert result.get("extractor") != "test-counting"
