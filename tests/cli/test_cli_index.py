"""`nxhub index` with no argument: every reachable store is indexed, each missing one reported."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy import select

from nexuslims_kernel.db import Database
from nexuslims_kernel.db.models import IndexedFile, Instrument


def test_index_all_reports_each_missing_store_and_indexes_the_rest(nxhub, tmp_path: Path, db_url: str) -> None:
    assert nxhub("init")[0] == 0
    stores = {"A-gone": tmp_path / "unmounted", "B-ok": tmp_path / "b", "C-gone": tmp_path / "moved", "D-ok": tmp_path / "d"}
    for name, root in stores.items():
        if name.endswith("ok"):
            root.mkdir()
            (root / f"{name}.dm3").write_bytes(b"x" * 10)
            os.utime(root / f"{name}.dm3", (1.7e9, 1.7e9))  # settled long ago
        assert nxhub("instruments", "add", name, "--filestore", str(root))[0] == 0
    code, out, err = nxhub("--json", "index")
    assert code == 4
    assert [row["instrument"] for row in json.loads(out)] == ["B-ok", "D-ok"]
    assert err.count("nxhub: error:") == 2 and "A-gone" in err and "C-gone" in err
    db = Database(db_url)
    try:
        with db.session() as sess:
            indexed = sess.execute(select(Instrument.name, IndexedFile.relpath).join(Instrument, Instrument.id == IndexedFile.instrument_id)).all()
    finally:
        db.dispose()
    assert sorted(indexed) == [("B-ok", "B-ok.dm3"), ("D-ok", "D-ok.dm3")]
