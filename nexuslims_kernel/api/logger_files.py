"""GET /logger/files?since=ISO: how many files landed in this instrument's store since then. Instrument token only, read-only.

The operator watches this count grow during a session, so a stalled
acquisition PC or a broken share shows before the session ends. It counts the
file index (modification time at or after ``since``); a file appears once the
indexer has seen it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.api.logger import LoggerHandler
from nexuslims_kernel.api.params import time_arg
from nexuslims_kernel.db.models import IndexedFile


class FilesHandler(LoggerHandler):
    async def get(self) -> None:
        since = time_arg(self, "since")
        if since is None:
            raise ApiError(400, "give 'since', an ISO-8601 time with a UTC offset")
        self.send_json(await self.run(self._count, since))

    def _count(self, since: dt.datetime) -> dict[str, Any]:
        live = (IndexedFile.instrument_id == self.principal.instrument_id, IndexedFile.deleted.is_(False))
        with self.ctx.db.session() as sess:
            count, newest = sess.execute(
                select(func.count(IndexedFile.id), func.max(IndexedFile.mtime)).where(*live, IndexedFile.mtime >= since.timestamp())
            ).one()
            latest = sess.scalar(select(IndexedFile.relpath).where(*live, IndexedFile.mtime == newest).limit(1)) if count else None
        return {
            "since": since.isoformat(), "count": int(count),
            "newest": None if newest is None else {"relpath": latest, "mtime": dt.datetime.fromtimestamp(newest, dt.UTC).isoformat()},
        }
