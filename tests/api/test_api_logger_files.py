"""GET /logger/files: the files landed in an instrument's store since a time, for the Logger's live count."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from nexuslims_kernel.db.directory import add_instrument
from nexuslims_kernel.db.models import IndexedFile, Instrument

UTC = dt.UTC


def test_files_landed_since_counts_only_this_instruments_live_files(api_server, world, db) -> None:
    since = dt.datetime(2026, 3, 1, 9, tzinfo=UTC)
    with db.session(write=True) as sess:
        titan = sess.scalar(select(Instrument).where(Instrument.name == "titan"))
        krios = add_instrument(sess, "krios")
        for relpath, minutes, inst, deleted in (("old.dm3", -5, titan, False), ("a.dm3", 1, titan, False), ("b/c.emd", 30, titan, False),
                                                ("gone.dm3", 40, titan, True), ("krios.mrc", 50, krios, False)):
            sess.add(IndexedFile(instrument_id=inst.id, relpath=relpath, size=1, deleted=deleted,
                                 mtime=(since + dt.timedelta(minutes=minutes)).timestamp()))
    with api_server.client(world.tokens["instrument"]) as client:
        body = client.get("/logger/files", params={"since": "2026-03-01T10:00:00+01:00"}).json()
        assert body["count"] == 2 and body["newest"] == {"relpath": "b/c.emd", "mtime": "2026-03-01T09:30:00+00:00"}
        assert client.get("/logger/files", params={"since": "2026-03-02T00:00:00Z"}).json() == {
            "since": "2026-03-02T00:00:00+00:00", "count": 0, "newest": None}
        assert client.get("/logger/files").status_code == 400
        assert client.get("/logger/files", params={"since": "yesterday"}).status_code == 400
    with api_server.client(world.tokens["owner"]) as person:  # a person's token is not an instrument's
        assert person.get("/logger/files", params={"since": "2026-03-01T00:00:00Z"}).status_code == 403
