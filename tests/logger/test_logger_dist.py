"""`make logger-dist`: the one-folder PyInstaller build works and carries no server stack."""

from __future__ import annotations

import subprocess
import sys

import pytest
from loggerkit import LOGGER_DIR, logger_env


@pytest.mark.slow
def test_pyinstaller_bundle_builds_and_its_headless_status_runs(tmp_path, logger_home) -> None:
    pytest.importorskip("PyInstaller", reason="pip install pyinstaller (in the [dev] extra)")
    build = subprocess.run([sys.executable, str(LOGGER_DIR / "build_dist.py"), str(tmp_path / "dist")],
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stderr[-3000:]
    folder = tmp_path / "dist" / "nxhub-logger"
    suffix = ".exe" if sys.platform == "win32" else ""
    exe = folder / f"nxhub-logger{suffix}"
    assert (folder / f"nxhub-logger-gui{suffix}").is_file()  # the window's program, sharing the same libraries
    env = logger_env(logger_home)
    env.pop("PYTHONPATH")  # the bundle carries its own Python and packages
    status = subprocess.run([str(exe), "status"], env=env, capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and "session:  none running" in status.stdout, status.stdout + status.stderr
    shipped = {p.name.lower() for p in (folder / "_internal").iterdir()}
    assert not shipped & {"sqlalchemy", "hyperspy", "jupyterhub", "tornado", "numpy", "nexuslims_kernel"}
    assert (tmp_path / "dist" / "nxhub-logger.pyz").is_file()
