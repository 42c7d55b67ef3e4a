"""NexusLIMS 2.8.0 (PyPI ``nexuslims``) in a venv of its own, to make source databases with its own code.

Like the NEMO venv of tests/calendars: ``<repo>/.venv-nexuslims/<version>/`` (git-ignored), created once
and reused. Our code never imports NexusLIMS: its CLI (``nexuslims db init``) creates the database and
``nexuslims_seed.py`` fills it through its ORM.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from venvkit import ensure_venv, run

NEXUSLIMS_VERSION = "2.8.0"
HERE = Path(__file__).parent
REPO = HERE.parent.parent


def venv_dir() -> Path:
    return Path(os.environ.get("NXHUB_NEXUSLIMS_VENV") or REPO / ".venv-nexuslims" / NEXUSLIMS_VERSION)


def ensure_nexuslims() -> Path:
    """The venv with ``nexuslims==2.8.0`` installed; returns its folder."""
    return ensure_venv(venv_dir(), f"nexuslims=={NEXUSLIMS_VERSION}", NEXUSLIMS_VERSION)


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
    run([str(venv / "bin" / "nexuslims"), "db", "init"], env=_env(db), timeout=300)
    run([str(venv / "bin" / "python"), str(HERE / "nexuslims_seed.py")], env=_env(db), timeout=300,
         input=json.dumps({"instruments": instruments, "logs": logs}))
    return db
