"""The extraction cache never serves a file's old metadata after the file changed."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from buildkit import T0, add_sessions, add_store, touch
from pluginkit import plugin_env


def _nxhub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", "nexuslims_kernel.cli.main", *args], env=env,
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    return out


def _texts(env: dict[str, str], record_id: int) -> list[str]:
    record = json.loads(_nxhub(env, "export", str(record_id), "--format", "json").stdout)
    return [ds["raw_metadata"]["CountFile"]["text"] for act in record["activities"] for ds in act["datasets"]]


def test_a_file_rewritten_in_place_is_read_again_on_rebuild(db, env_for_cli, counting_plugin: Path, tmp_path: Path) -> None:
    root = tmp_path / "store"
    inst = add_store(db, root)
    (sid,) = add_sessions(db, inst, [T0], hours=2)
    path = root / "frame.count"
    path.write_text("COUNT alpha\n")
    touch(path, T0 + dt.timedelta(minutes=10))
    log = tmp_path / "extractions.log"
    env = plugin_env(env_for_cli, counting_plugin, log)

    first = json.loads(_nxhub(env, "--json", "build", "--session", str(sid)).stdout)
    (row,) = first if isinstance(first, list) else first["sessions"]
    record_id = row["record"]
    assert _texts(env, record_id) == ["COUNT alpha"]

    _nxhub(env, "sessions", "rebuild", str(sid))
    _nxhub(env, "build", "--session", str(sid))
    assert log.read_text().count(str(path)) == 1, "an unchanged file was extracted again instead of cached"

    path.write_text("COUNT bravo\n")  # same name and size, new content and time
    touch(path, T0 + dt.timedelta(minutes=20))
    _nxhub(env, "sessions", "rebuild", str(sid))
    _nxhub(env, "build", "--session", str(sid))
    assert _texts(env, record_id) == ["COUNT bravo"]
    assert log.read_text().count(str(path)) == 2
