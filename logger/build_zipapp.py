"""Build ``nxhub-logger.pyz``: the Logger as one file for a microscope PC's Python (3.4 and up) with nothing installed.

    python logger/build_zipapp.py [OUTPUT]      # default: logger/dist/nxhub-logger.pyz

Only the standard-library part goes in: the commands and the Tk window (the Qt one needs PySide6 and is left out).
Double-clicked, or run as ``python nxhub-logger.pyz``, it opens the Tk window.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipapp
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADLESS = ("__init__.py", "__main__.py", "cli.py", "faults.py", "hubclient.py", "journal.py", "sender.py", "settings.py",
            "view.py", "tkdialogs.py", "tkwindow.py")


def build(output: Path) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / "nxhub_logger"
        pkg.mkdir()
        for name in HEADLESS:
            shutil.copy2(HERE / "nxhub_logger" / name, pkg / name)
        zipapp.create_archive(tmp, output, interpreter="/usr/bin/env python3", main="nxhub_logger.cli:_zipapp_main",
                              compressed=True)
    return output


if __name__ == "__main__":
    out = build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "dist" / "nxhub-logger.pyz")
    print(f"built {out} ({out.stat().st_size // 1024} KiB)")
