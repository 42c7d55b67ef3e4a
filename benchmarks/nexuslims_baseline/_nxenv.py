"""Shared set-up for scripts that run INSIDE the NexusLIMS 2.8.0 bench venv.

Never imported by our package. Everything happens in a private temp folder:

* NexusLIMS reads its settings at import (pydantic-settings) and validates that
  NX_INSTRUMENT_DATA_PATH / NX_DATA_PATH are existing folders, NX_DB_PATH an
  existing file, NX_CDCS_URL an http(s) URL and NX_CDCS_TOKEN non-empty. We set
  dummy values pointing into the temp folder *before* the first nexusLIMS
  import, and chdir there because it also reads ``./.env``.
* The DB is created like ``nexuslims db init`` does (touch + alembic upgrade head).
* Previews and metadata JSON are written under NX_DATA_PATH by mirroring the
  file's path below NX_INSTRUMENT_DATA_PATH; a file outside that root gets its
  preview written *next to the file*, so callers must present files from inside
  the temp instrument-data folder (symlinked folders or copies), never the corpus.
* ``no_network()`` makes every non-loopback connect/getaddrinfo raise, and counts
  attempts, so a run proves it contacted no host (CDCS, NEMO, ...).
* ``json_stdout()`` moves fd 1 to stderr while the tool runs (its logging,
  hyperspy warnings, tqdm, C-level prints) and gives back the real stdout for the
  one JSON result.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import resource
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

_REAL_STDOUT_FD: int | None = None


def json_stdout() -> None:
    """Redirect fd 1 (and sys.stdout) to stderr; keep a private copy of the real stdout."""
    global _REAL_STDOUT_FD
    if _REAL_STDOUT_FD is None:
        sys.stdout.flush()
        _REAL_STDOUT_FD = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr


def emit(result: dict[str, Any]) -> None:
    data = (json.dumps(result, default=str) + "\n").encode()
    fd = _REAL_STDOUT_FD if _REAL_STDOUT_FD is not None else 1
    os.write(fd, data)


def read_request(argv: list[str]) -> dict[str, Any]:
    """Request: a JSON object (or bare list of paths) on stdin, or file paths as argv."""
    if len(argv) > 1:
        return {"paths": argv[1:]}
    raw = sys.stdin.read().strip()
    if not raw:
        return {"paths": []}
    req = json.loads(raw)
    return {"paths": req} if isinstance(req, list) else req


def make_env(prefix: str) -> Path:
    """Temp folder with NX_* settings pointing into it; call before importing nexusLIMS."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    (root / "instrument_data").mkdir()
    (root / "nexuslims_data").mkdir()
    (root / "records").mkdir()
    (root / "logs").mkdir()
    db = root / "nexuslims.db"
    db.touch()
    for key in [k for k in os.environ if k.startswith("NX_")]:
        del os.environ[key]
    os.environ.update({
        "NX_INSTRUMENT_DATA_PATH": str(root / "instrument_data"),
        "NX_DATA_PATH": str(root / "nexuslims_data"),
        "NX_DB_PATH": str(db),
        "NX_CDCS_URL": "https://cdcs.invalid/",  # dummy: only used by the export step, which we never run
        "NX_CDCS_TOKEN": "dummy-token-not-used",
        "NX_LOG_PATH": str(root / "logs"),
        "NX_RECORDS_PATH": str(root / "records"),
        "NX_FILE_STRATEGY": "exclusive",  # the default: only files with a specialised extractor
    })
    os.environ.setdefault("MPLBACKEND", "Agg")
    # a killed run (SIGTERM/SIGINT, timeout) still removes its temp folder
    atexit.register(cleanup_unless_kept, root)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.chdir(root)  # pydantic-settings reads ./.env
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    return root


KEEP_TMP = False


def cleanup_unless_kept(root: Path) -> None:
    if not KEEP_TMP:
        cleanup(root)


def cleanup(root: Path) -> None:
    """Remove the temp folder (symlinks inside are unlinked, never followed)."""
    import shutil

    shutil.rmtree(root, ignore_errors=True)


def init_db() -> float:
    """``nexuslims db init`` without the CLI: alembic upgrade head on the empty file."""
    t = time.perf_counter()
    from nexusLIMS.cli.migrate import _run_alembic_command

    _run_alembic_command("upgrade", "head")
    return time.perf_counter() - t


class NetworkGuard:
    """Refuse every non-loopback connection; count the attempts."""

    LOCAL = ("127.0.0.1", "::1", "localhost", "")

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def install(self) -> NetworkGuard:
        guard = self
        orig_connect = socket.socket.connect
        orig_connect_ex = socket.socket.connect_ex
        orig_getaddrinfo = socket.getaddrinfo

        def _host(address: Any) -> str:
            return str(address[0]) if isinstance(address, tuple) and address else str(address)

        def connect(sock, address):  # type: ignore[no-untyped-def]
            if sock.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in guard.LOCAL:
                guard.attempts.append(f"connect {address}")
                raise OSError(f"benchmark: network disabled ({address})")
            return orig_connect(sock, address)

        def connect_ex(sock, address):  # type: ignore[no-untyped-def]
            if sock.family in (socket.AF_INET, socket.AF_INET6) and _host(address) not in guard.LOCAL:
                guard.attempts.append(f"connect_ex {address}")
                return 111
            return orig_connect_ex(sock, address)

        def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
            if host not in guard.LOCAL and host is not None:
                guard.attempts.append(f"getaddrinfo {host}")
                raise socket.gaierror(f"benchmark: network disabled ({host})")
            return orig_getaddrinfo(host, *args, **kwargs)

        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
        return self


class RssSampler:
    """Peak RSS of this process (+children) sampled every ``interval_s``; ``window()`` per file."""

    def __init__(self, interval_s: float = 0.02) -> None:
        import psutil

        self._proc = psutil.Process()
        self.interval_s = interval_s
        self.peak = 0
        self._window_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        total = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            with contextlib.suppress(Exception):
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.rss()
            self.peak = max(self.peak, now)
            self._window_peak = max(self._window_peak, now)
            self._stop.wait(self.interval_s)

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def window_start(self) -> int:
        now = self.rss()
        self._window_peak = now
        return now

    def window_peak(self) -> int:
        self._window_peak = max(self._window_peak, self.rss())
        return self._window_peak


def maxrss_mb() -> dict[str, float]:
    """Kernel high-water marks (ru_maxrss is KiB on Linux)."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(me, 1), "children_mb": round(kids, 1)}


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for dist in ("nexusLIMS", "hyperspy", "rosettasciio", "exspy", "numpy", "scikit-learn"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            pass
    return out


def mirror_dirs(paths: list[str], instrument_data: Path, sub: str = "corpus") -> dict[str, Path]:
    """Map each path to one inside ``instrument_data`` via a symlink to its parent folder.

    Companions (.emi next to .ser, ...) stay reachable because the whole parent
    folder is linked; nothing is written into the source folders because the
    tool writes previews under NX_DATA_PATH, mirroring the linked path.
    """
    base = instrument_data / sub
    base.mkdir(parents=True, exist_ok=True)
    links: dict[Path, Path] = {}
    out: dict[str, Path] = {}
    for p in paths:
        src = Path(p).resolve()
        parent = src.parent
        if parent not in links:
            link = base / f"d{len(links):03d}"
            link.symlink_to(parent, target_is_directory=True)
            links[parent] = link
        out[p] = links[parent] / src.name
    return out
