"""Before `nxhub init`: commands point at `nxhub init`, and `nxhub status` creates nothing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import inspect

from nexuslims_kernel.db import Database


def _tables(db_url: str) -> list[str]:
    db = Database(db_url)
    try:
        return inspect(db.engine).get_table_names()
    finally:
        db.dispose()


def test_commands_before_init_say_run_nxhub_init(nxhub) -> None:
    code, _, err = nxhub("instruments", "list")
    assert code == 69 and "run 'nxhub init'" in err and "db upgrade" not in err and err.count("\n") == 1


def test_status_before_init_reports_not_initialised_and_creates_nothing(nxhub, env_for_cli, db_url) -> None:
    data_dir = Path(env_for_cli["NXHUB_DATA_DIR"])
    code, out, err = nxhub("--json", "status")
    info = json.loads(out)
    assert code != 0 and info["schema"] == "not initialised" and info["schema_ok"] is False
    assert "nxhub init" in err
    assert not data_dir.exists() and not (data_dir.parent / "nxhub.db").exists()
    if db_url.startswith("sqlite"):
        assert not Path(db_url.removeprefix("sqlite:///")).exists()
    else:
        assert _tables(db_url) == []


def test_status_after_init_reports_counts(nxhub) -> None:
    assert nxhub("init")[0] == 0
    code, out, _ = nxhub("--json", "status")
    info = json.loads(out)
    assert code == 0 and info["schema_ok"] is True and info["instruments"] == 0
