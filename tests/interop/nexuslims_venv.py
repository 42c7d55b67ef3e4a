"""NexusLIMS 2.8.0 (PyPI ``nexuslims``) in a venv of its own, to make source databases with its own code.

Like the NEMO venv of tests/calendars: ``<repo>/.venv-nexuslims/<version>/`` (git-ignored), created once
and reused. Our code never imports NexusLIMS: its CLI (``nexuslims db init``) creates the database and
``nexuslims_seed.py`` fills it through its ORM.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

NEXUSLIMS_VERSION = "2.8.0"
HERE = Path(__file__).parent
REPO = HERE.parent.parent


def venv_dir() -> Path:
    return Path(os.environ.get("NXHUB_NEXUSLIMS_VENV") or REPO / ".venv-nexuslims" / NEXUSLIMS_VERSION)


def _run(cmd: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:4]))} failed ({result.returncode}): {result.stderr[-2000:]}")
    return result


def ensure_nexuslims() -> Path:
    """The venv with ``nexuslims==2.8.0`` installed; returns its folder."""
    venv = venv_dir()
    ready = venv / f".ready-{NEXUSLIMS_VERSION}"
    if ready.is_file():
        return venv
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".lock-{NEXUSLIMS_VERSION}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs at once install once
        if ready.is_file():
            return venv
        if not (venv / "bin" / "python").exists():
            _run([sys.executable, "-m", "venv", str(venv)])
        _run([str(venv / "bin" / "pip"), "install", "-q", f"nexuslims=={NEXUSLIMS_VERSION}"], timeout=1800)
        ready.write_text(NEXUSLIMS_VERSION)
    return venv


def _env(db: Path) -> dict[str, str]:
    """NexusLIMS's settings for a scratch site: its database and data folders next to ``db``."""
    base = db.parent
    for name in ("nx-instrument-data", "nx-data"):
        (base / name).mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NX_", "NXHUB", "PYTHON"))}
    env.update(NX_DB_PATH=str(db), NX_INSTRUMENT_DATA_PATH=str(base / "nx-instrument-data"),
               NX_DATA_PATH=str(base / "nx-data"), HOME=str(base),
               # required by its settings, never contacted: the import reads only the database
               NX_CDCS_URL="http://127.0.0.1:9/", NX_CDCS_TOKEN="unused")
    return env


def make_db(venv: Path, db: Path, instruments: list[dict], logs: list[dict]) -> Path:
    """A NexusLIMS 2.8 database at ``db``: ``nexuslims db init``, then rows through its ORM."""
    _run([str(venv / "bin" / "nexuslims"), "db", "init"], env=_env(db), timeout=300)
    _run([str(venv / "bin" / "python"), str(HERE / "nexuslims_seed.py")], env=_env(db), timeout=300,
         input=json.dumps({"instruments": instruments, "logs": logs}))
    return db
