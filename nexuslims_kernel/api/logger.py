"""Logger endpoints: events in (idempotent), heartbeat, today's reservations. Instrument token only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from nexuslims_kernel.api.base import BaseHandler
from nexuslims_kernel.api.errors import ApiError, status_and_message
from nexuslims_kernel.api.schemas import validate_body
from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.errors import NxhubError
from nexuslims_kernel.sessions.events import LoggerEvent, ingest_event, parse_event
from nexuslims_kernel.sessions.picker import picker_for

MAX_BATCH = 500


def parse_logger_event(item: Any, kind: str | None = None) -> LoggerEvent:
    """One posted event, checked against the OpenAPI document's ``LoggerEvent`` schema, then parsed (400 naming the field)."""
    return parse_event(validate_body("LoggerEvent", item), kind)


class LoggerHandler(BaseHandler):
    audience = "instrument"


class EventsHandler(LoggerHandler):
    """POST /logger/events (one event or {"events": [...]}) and /logger/{start,end,note}.

    A batch is applied in order in one transaction, each event inside a savepoint
    of its own (a refused event rolls back alone; one commit for the batch, so a
    Logger's backlog of thousands of events arrives in seconds), and answered per
    event: each result is what was stored, or ``{"uuid", "error": {"status",
    "message"}}`` for an event a rule refused (the events after it are still tried).
    A single event answers with the refusal's own status code.
    """

    async def post(self, kind: str | None = None) -> None:
        body = self.json_body()
        batch = isinstance(body, dict) and "events" in body and kind is None
        raw = body["events"] if batch else [body]
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_BATCH:
            raise ApiError(400, f"'events' must be a list of 1 to {MAX_BATCH} events")
        if not batch:
            self.send_json(await self.run(self._ingest, parse_logger_event(raw[0], kind.upper() if kind else None)))
            return
        parsed: list[LoggerEvent | dict[str, Any]] = []
        for item in raw:
            try:
                parsed.append(parse_logger_event(item))
            except (ApiError, NxhubError) as exc:
                parsed.append(_refusal(item, exc))
        results = await self.run(self._ingest_batch, parsed)
        refused = sum("error" in r for r in results)
        self.send_json({"results": results, "stored": len(results) - refused, "refused": refused})

    def _ingest_batch(self, items: list[LoggerEvent | dict[str, Any]]) -> list[dict[str, Any]]:
        """The batch in one write transaction, a savepoint per event; on a concurrent insert, event by event."""
        try:
            with self.ctx.db.session(write=True) as sess:
                out = []
                for ev in items:
                    if isinstance(ev, dict):  # refused while parsing
                        out.append(ev)
                        continue
                    try:
                        with sess.begin_nested():
                            out.append(ingest_event(sess, self.principal.instrument_id, ev, actor=self.principal.label))
                    except NxhubError as exc:
                        out.append(_refusal({"uuid": ev.uuid}, exc))
                return out
        except IntegrityError:  # another request stored one of these events first: the replay rule sorts it out
            return [ev if isinstance(ev, dict) else self._one(ev) for ev in items]

    def _one(self, ev: LoggerEvent) -> dict[str, Any]:
        try:
            return self._ingest(ev)
        except (ApiError, NxhubError) as exc:
            return _refusal({"uuid": ev.uuid}, exc)

    def _ingest(self, ev: LoggerEvent) -> dict[str, Any]:
        # A concurrent request with the same event or session may win the insert:
        # retry once, and the replay rule makes the retry a clean no-op.
        for attempt in range(3):
            try:
                with self.ctx.db.session(write=True) as sess:
                    return ingest_event(sess, self.principal.instrument_id, ev, actor=self.principal.label)
            except IntegrityError:
                if attempt == 2:
                    raise ApiError(409, f"event {ev.uuid} conflicts with a concurrent update; resend it") from None
        raise AssertionError("unreachable")


def _refusal(item: Any, exc: Exception) -> dict[str, Any]:
    """A batch's answer for one refused event: its uuid (when it had one) and the error."""
    status, message = status_and_message(500, exc)
    uuid = item.get("uuid") if isinstance(item, dict) and isinstance(item.get("uuid"), str) else None
    return {"uuid": uuid, "error": {"status": status, "message": message}}


class HeartbeatHandler(LoggerHandler):
    """GET/POST /logger/heartbeat: the server is up and knows this token; server time for clock checks."""

    async def get(self) -> None:
        self.send_json({"instrument": self.principal.instrument_name, "server_time": utcnow().isoformat()})

    post = get


class ReservationsHandler(LoggerHandler):
    """GET /logger/reservations: what the Logger's user picker needs (rule in sessions.picker)."""

    async def get(self) -> None:
        self.send_json(await self.run(self._today))

    def _today(self) -> dict[str, Any]:
        with self.ctx.db.session() as sess:
            return picker_for(sess, self.principal.instrument_id)
