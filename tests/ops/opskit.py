"""Ops test helpers (re-exporting the builder's buildkit and the API tests' ApiServer): a hub with built records, the CLI run in-process against any data dir and database."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "builder"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from apikit import ApiServer
from buildkit import T0, add_sessions, add_store, touch

from nexuslims_kernel.cli.main import main
from nexuslims_kernel.config import set_settings
from nexuslims_kernel.db import reset_databases


def write_tiffs(root: Path, n: int, minute0: int = 5) -> list[Path]:
    import datetime as dt

    from rsciio.tiff import file_writer as write_tiff

    axes = [{"size": 16, "name": a, "units": "nm", "scale": 1.0, "offset": 0, "navigate": False} for a in "yx"]
    paths = []
    for i in range(n):
        path = root / "run" / f"img_{i}.tif"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_tiff(str(path), {"data": np.full((16, 16), i, dtype="uint16"), "axes": axes, "metadata": {}, "original_metadata": {}})
        paths.append(touch(path, T0 + dt.timedelta(minutes=minute0 + i)))
    return paths


def built_hub(db, settings, store: Path, pool, n: int = 3) -> tuple[int, list[Path]]:
    """One instrument, one session over ``n`` images, built (previews and a record): (session id, image paths)."""
    from nexuslims_kernel.builder import build_session

    inst = add_store(db, store)
    (sid,) = add_sessions(db, inst, [T0])
    paths = write_tiffs(store, n)
    assert build_session(db, sid, settings, pool=pool).status == "COMPLETED"
    return sid, paths


def run_cli(monkeypatch, capsys, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    """``nxhub ARGS`` in-process with exactly the NXHUB_* variables of ``env``; (exit code, stdout, stderr)."""
    with monkeypatch.context() as m:
        for key in [k for k in os.environ if k.startswith("NXHUB_")]:
            m.delenv(key)
        for key, value in env.items():
            m.setenv(key, value)
        set_settings(None)
        reset_databases()
        code = 0
        try:
            main(list(args))
        except SystemExit as exc:
            code = int(exc.code or 0)
        finally:
            set_settings(None)
            reset_databases()
    out, err = capsys.readouterr()
    return code, out, err


@contextlib.contextmanager
def api_server(settings, db):
    """The real API on loopback for the block (tests/api's ApiServer)."""
    server = ApiServer(settings, db)
    try:
        yield server
    finally:
        server.stop()
