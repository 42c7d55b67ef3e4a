"""The zipapp on the Pythons of old microscope PCs: 3.4 (the last for Windows XP) and 3.8 (the last for Windows 7).

Its sources are checked with vermin (the minimum Python must stay 3.4) and for the
calls vermin cannot see on an untyped object; then the zipapp itself runs, against a
real hub, under each older interpreter this machine has.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from build_zipapp import HEADLESS  # the files that go into the zipapp, one list (LOGGER_DIR is on sys.path)
from loggerkit import LOGGER_DIR

SOURCES = [LOGGER_DIR / "nxhub_logger" / name for name in HEADLESS]
# Newer than 3.4 and invisible to vermin on a Path or sqlite string it cannot type: each once bit this code.
NEWER_CALLS = {r"\.read_text\(": "Path.read_text is 3.5+", r"\.write_text\(": "Path.write_text is 3.5+",
               r"exist_ok=True\)": "Path.mkdir(exist_ok) is 3.5+ (os.makedirs is fine)", r"missing_ok": "Path.unlink(missing_ok) is 3.8+",
               r"\.fromisoformat\(": "datetime.fromisoformat is 3.7+", r"ON CONFLICT": "SQLite UPSERT is newer than Python 3.4's SQLite",
               r"subprocess\.run\(": "subprocess.run is 3.5+", r"os\.scandir\(": "os.scandir is 3.5+"}


def test_zipapp_sources_need_no_python_newer_than_3_4() -> None:
    pytest.importorskip("vermin", reason="pip install vermin (in the [dev] extra)")
    run = subprocess.run([sys.executable, "-c", "import sys, vermin; sys.exit(vermin.main())", "--target=3.4-", "--no-tips", "--violations", *map(str, SOURCES)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Minimum required versions: 3.4" in run.stdout, run.stdout + run.stderr


def test_zipapp_sources_avoid_calls_vermin_cannot_see() -> None:
    found = [f"{src.name}:{n}: {why}" for src in SOURCES for n, line in enumerate(src.read_text().splitlines(), 1)
             for pattern, why in NEWER_CALLS.items() if re.search(pattern, line) and "os.makedirs" not in line]
    assert found == []


@pytest.mark.parametrize("text", ["2026-03-01T09:00:00+00:00", "2026-03-01T09:00:00.123456+00:00", "2026-03-01T10:30:05.5+01:30",
                                  "2026-03-01T09:00:00-05:00", "2026-03-01T09:00:00"])
def test_journal_reads_times_as_fromisoformat_does(text) -> None:
    """The journal's own ISO parser (3.4 has no fromisoformat) reads what this and newer Pythons wrote."""
    import datetime as dt

    from nxhub_logger.journal import parse_time

    assert parse_time(text) == dt.datetime.fromisoformat(text)
    assert parse_time(text).utcoffset() == dt.datetime.fromisoformat(text).utcoffset()
