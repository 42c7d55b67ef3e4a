"""API test helpers: a real server on loopback and a small world of people, records and files."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import httpx

from nexuslims_kernel.config import Settings
from nexuslims_kernel.db import Database, record_facets
from nexuslims_kernel.db.models import Activity, Dataset, InstrumentSession, Record

UTC = dt.UTC
KINDS = ("private", "group", "public", "embargoed")
ROLES = ("owner", "member", "other", "anonymous", "instrument", "admin")


class ApiServer:
    """The real API app on 127.0.0.1:<random port>, its IOLoop in a background thread."""

    def __init__(self, settings: Settings, db: Database, port: int = 0, **app_kwargs: Any) -> None:
        from nexuslims_kernel.api import make_app, make_server

        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        box: dict[str, Any] = {}

        def run() -> None:
            asyncio.set_event_loop(self.loop)

            async def start() -> None:
                box["app"] = make_app(settings, db, **app_kwargs)
                box["server"], box["port"] = make_server(box["app"], port=port)
                started.set()

            self.loop.run_until_complete(start())
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(20), "API server did not start"
        self.server, self.port = box["server"], box["port"]
        self.base = f"http://127.0.0.1:{self.port}{settings.api.base_path.rstrip('/')}/api/v1"

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=60, **kwargs)

    def stop(self) -> None:
        async def shutdown() -> None:
            self.server.stop()
            await self.server.close_all_connections()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@dataclasses.dataclass
class World:
    tokens: dict[str, str | None]
    records: dict[str, int]  # kind -> record id
    datasets: dict[str, int]  # kind -> dataset id
    sessions: dict[str, int]
    store: Path
    relpaths: dict[str, str]
    instrument: str = "titan"


def add_record(sess: Any, inst: Any, kind: str, owner: Any, group: Any, store: Path, previews: Path, *, title: str | None = None,
               dataset_type: str | None = None, relpath: str | None = None, content: bytes | None = None) -> tuple[Record, Dataset]:
    """A record with one activity and one dataset whose file and preview exist on disk."""
    start = dt.datetime(2026, 1, 5 + KINDS.index(kind) if kind in KINDS else 20, 9, tzinfo=UTC)
    session = InstrumentSession(instrument_id=inst.id, source="logger", start=start, end=start + dt.timedelta(hours=2), status="COMPLETED")
    sess.add(session)
    sess.flush()
    record = Record(
        session_id=session.id, instrument_id=inst.id, title=title or f"Session zebra{kind} microscopy", start=start,
        end=start + dt.timedelta(hours=2), owner_id=owner.id if owner else None, group_id=group.id if group else None,
        is_public=kind in ("public", "embargoed"),
        embargo_until=dt.datetime(2099, 1, 1, tzinfo=UTC) if kind == "embargoed" else None,
        header={"experimenters": [{"username": owner.username, "name": owner.display_name}] if owner else []}, n_datasets=1,
        search_text=f"zebra{kind} titan {owner.username if owner else ''} sample-{kind}",
    )
    sess.add(record)
    sess.flush()
    act = Activity(record_id=record.id, seq=1, start=start, end=start + dt.timedelta(hours=1), setup={})
    sess.add(act)
    sess.flush()
    relpath = relpath or f"{kind}/image_{kind}.dm3"
    path = store / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(content if content is not None else (kind.encode() * 1000))
    preview = f"{record.id}/{kind}.png"
    (previews / preview).parent.mkdir(parents=True, exist_ok=True)
    (previews / preview).write_bytes(b"\x89PNG\r\n\x1a\n" + kind.encode())
    ds = Dataset(
        record_id=record.id, activity_id=act.id, relpath=relpath, name=f"image_{kind}",
        dataset_type=dataset_type or ("Image" if kind in ("private", "group") else "Spectrum"), format="dm3",
        acquired_at=start, file_size=path.stat().st_size, meta={"operator": owner.username if owner else None},
        preview_path=preview,
    )
    sess.add(ds)
    sess.flush()
    record_facets.refresh(sess, [record.id])  # as the record writer does
    return record, ds
