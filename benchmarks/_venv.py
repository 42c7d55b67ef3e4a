"""The separate benchmark venv that holds NexusLIMS 2.8.0 (the baseline we measure against).

NexusLIMS pins its own hyperspy/rosettasciio/numpy stack, so it never shares our
``.venv``. ``ensure_bench_venv()`` creates ``<repo>/.venv-bench-nexuslims`` on first
use (``python -m venv`` + ``pip install nexuslims==2.8.0``), writes a marker file
and a ``pip freeze`` next to it, and on later calls returns at once. The folder
matches ``.venv-*/`` in ``.gitignore`` and ``make clean`` removes it.

Environment:
  NXHUB_BENCH_VENV     another location for the venv
  NXHUB_BENCH_PYTHON   the interpreter used to create it (default: python3 on PATH)

``python benchmarks/_venv.py`` creates it and prints the python path.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NEXUSLIMS_VERSION = "2.8.0"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_VENV = REPO / ".venv-bench-nexuslims"
MARKER_NAME = f".installed-nexuslims-{NEXUSLIMS_VERSION}"
BASELINE_SCRIPTS = Path(__file__).resolve().parent / "nexuslims_baseline"


def venv_dir() -> Path:
    return Path(os.environ.get("NXHUB_BENCH_VENV") or DEFAULT_VENV)


def venv_python(venv: Path | None = None) -> Path:
    return (venv or venv_dir()) / "bin" / "python"


def is_ready(venv: Path | None = None) -> bool:
    venv = venv or venv_dir()
    return (venv / MARKER_NAME).is_file() and venv_python(venv).exists()


@contextlib.contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # two bench runs at once install only once
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_bench_venv(*, quiet: bool = True) -> Path:
    """Create the NexusLIMS bench venv if missing (idempotent); return its python."""
    venv = venv_dir()
    if is_ready(venv):
        return venv_python(venv)
    with _lock(Path(tempfile.gettempdir()) / f"nxhub-bench-venv-{hashlib.sha1(str(venv).encode()).hexdigest()[:12]}.lock"):
        if is_ready(venv):
            return venv_python(venv)
        base = os.environ.get("NXHUB_BENCH_PYTHON") or shutil.which("python3") or sys.executable
        out = subprocess.DEVNULL if quiet else None
        print(f"[bench] creating {venv} with nexuslims=={NEXUSLIMS_VERSION} (one-off, a few minutes)", file=sys.stderr)
        if not venv_python(venv).exists():
            subprocess.run([base, "-m", "venv", str(venv)], check=True, stdout=out)
        py = str(venv_python(venv))
        pip = [py, "-m", "pip", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "--quiet", "--upgrade", "pip"], check=True, stdout=out)
        subprocess.run([*pip, "install", "--quiet", f"nexuslims=={NEXUSLIMS_VERSION}", "psutil"], check=True, stdout=out)
        # smoke test: the package imports (hyperspy and all) before we call it ready
        subprocess.run([py, "-c", "import nexusLIMS, hyperspy.api, psutil"], check=True, stdout=out,
                       env={**os.environ, "NX_TEST_MODE": "1"})
        freeze = subprocess.run([*pip, "freeze"], check=True, capture_output=True, text=True).stdout
        (venv / "pip-freeze.txt").write_text(freeze)
        (venv / MARKER_NAME).write_text(f"nexuslims=={NEXUSLIMS_VERSION}\n")
    return venv_python(venv)


def run_in_bench_venv(script: str, payload: str, *, timeout_s: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``benchmarks/nexuslims_baseline/<script>`` in the bench venv with ``payload`` on stdin.

    stdout carries exactly one JSON document; the tool's log lines go to stderr,
    which we pass through unless NXHUB_BENCH_QUIET=1.
    """
    py = ensure_bench_venv()
    quiet = os.environ.get("NXHUB_BENCH_QUIET", "") not in ("", "0")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NX_")}  # never leak our/their config in
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([str(py), str(BASELINE_SCRIPTS / script)], input=payload, text=True, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL if quiet else None, env=env,
                          cwd=str(BASELINE_SCRIPTS), timeout=timeout_s)


if __name__ == "__main__":
    print(ensure_bench_venv(quiet=False))
