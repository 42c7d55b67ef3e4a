"""``make logger-dist``: the Logger as a one-folder PyInstaller app, plus the zipapp.

    python logger/build_dist.py [DIST_DIR]     # default: logger/dist

gives, in ``DIST_DIR/nxhub-logger/``, two programs sharing one set of libraries:
``nxhub-logger-gui`` (the window, no console window on Windows) and
``nxhub-logger`` (the headless commands ``status``, ``start`` …; no command opens
the window), and ``DIST_DIR/nxhub-logger.pyz``. Build on each target OS
(PyInstaller does not cross-compile).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Qt parts the window never uses: leaving them out keeps the folder small.
EXCLUDE = ["tkinter", "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtSql", "PySide6.QtTest", "PySide6.QtOpenGL",
           "PySide6.QtPrintSupport", "PySide6.QtConcurrent", "PySide6.QtDBus", "PySide6.QtXml"]

SPEC = """
a = Analysis([{entry!r}], pathex=[{here!r}], datas=[({arrow!r}, "nxhub_logger/gui")],
             hiddenimports=["nxhub_logger.gui.app", "nxhub_logger.gui.window"], excludes={exclude!r})
pyz = PYZ(a.pure)
cli = EXE(pyz, a.scripts, [], exclude_binaries=True, name="nxhub-logger", console=True)
gui = EXE(pyz, a.scripts, [], exclude_binaries=True, name="nxhub-logger-gui", console=False)
COLLECT(cli, gui, a.binaries, a.datas, name="nxhub-logger")
"""


def build(dist: Path) -> Path:
    dist.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "nxhub-logger.spec"
        spec.write_text(SPEC.format(entry=str(HERE / "nxhub_logger" / "__main__.py"), here=str(HERE),
                                    arrow=str(HERE / "nxhub_logger" / "gui" / "arrow.svg"), exclude=EXCLUDE))
        subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", str(dist),
                        "--workpath", str(Path(tmp) / "build"), str(spec)], check=True)
    sys.path.insert(0, str(HERE))
    from build_zipapp import build as build_zipapp

    build_zipapp(dist / "nxhub-logger.pyz")
    return dist / "nxhub-logger"


if __name__ == "__main__":
    folder = build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "dist")
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"built {folder} ({size / 2**20:.0f} MiB) and {folder.parent / 'nxhub-logger.pyz'}")
