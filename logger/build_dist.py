"""``make logger-dist``: the Logger as a one-folder PyInstaller app, plus the zipapp.

    python logger/build_dist.py [DIST_DIR]     # default: logger/dist

gives ``DIST_DIR/nxhub-logger/nxhub-logger[.exe]`` (no arguments: the window;
``status``, ``start`` … : the headless commands) and ``DIST_DIR/nxhub-logger.pyz``.
Build on each target OS (PyInstaller does not cross-compile).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENTRY = HERE / "nxhub_logger" / "__main__.py"
#: Qt parts the window never uses: leaving them out keeps the folder small.
EXCLUDE = ["tkinter", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtSql", "PySide6.QtTest", "PySide6.QtOpenGL",
           "PySide6.QtPrintSupport", "PySide6.QtConcurrent", "PySide6.QtDBus", "PySide6.QtXml"]


def build(dist: Path, work: Path | None = None) -> Path:
    dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = work or Path(tmp)
        cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--onedir", "--console", "--name", "nxhub-logger",
               "--distpath", str(dist), "--workpath", str(work / "build"), "--specpath", str(work),
               "--paths", str(HERE), "--log-level", "WARN",
               "--add-data", f"{HERE / 'nxhub_logger' / 'gui' / 'arrow.svg'}{os.pathsep}nxhub_logger/gui",
               "--hidden-import", "nxhub_logger.gui.app", "--hidden-import", "nxhub_logger.gui.window",
               *[arg for name in EXCLUDE for arg in ("--exclude-module", name)], str(ENTRY)]
        subprocess.run(cmd, check=True)
    sys.path.insert(0, str(HERE))
    from build_zipapp import build as build_zipapp

    build_zipapp(dist / "nxhub-logger.pyz")
    return dist / "nxhub-logger"


if __name__ == "__main__":
    folder = build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "dist")
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    print(f"built {folder} ({size / 2**20:.0f} MiB) and {folder.parent / 'nxhub-logger.pyz'}")
