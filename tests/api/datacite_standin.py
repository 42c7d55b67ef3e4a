"""A DataCite REST API *stand-in* on loopback: the calls Publish uses, nothing more.

``POST /dois`` (draft, or findable with ``event: publish``), ``PUT /dois/<doi>``
(``event: publish`` makes it findable) and ``GET /dois/<doi>``; HTTP basic auth;
bodies failing the DataCite 4.5 JSON schema (the ``datacite`` package's) get 422, an
existing DOI on POST gets DataCite's "has already been taken". ``down`` answers 503
to everything; ``fail_put`` answers 503 to PUTs only (an answer lost half-way).
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from typing import Any

import tornado.web
from datacite import schema45

IGNORED = ("url", "event", "prefix", "doi")


class _Handler(tornado.web.RequestHandler):
    def initialize(self, box: StandIn) -> None:
        self.box = box

    def prepare(self) -> None:
        self.box.calls.append((self.request.method, self.request.path))
        if self.box.down or (self.box.fail_put and self.request.method == "PUT"):
            self._answer(503, {"errors": [{"status": "503", "title": "Service unavailable"}]})
            return
        expected = "Basic " + base64.b64encode(f"{self.box.user}:{self.box.password}".encode()).decode()
        if self.request.headers.get("Authorization") != expected:
            self._answer(401, {"errors": [{"status": "401", "title": "Bad credentials."}]})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/vnd.api+json")
        self.finish(json.dumps(body))

    def _attributes(self) -> dict[str, Any] | None:
        try:
            attrs = json.loads(self.request.body)["data"]["attributes"]
        except (ValueError, KeyError, TypeError):
            self._answer(400, {"errors": [{"title": "not JSON:API"}]})
            return None
        problems = [e.message for e in schema45.validator.iter_errors({k: v for k, v in attrs.items() if k not in IGNORED})]
        if problems:
            self.box.rejected.append(problems)
            self._answer(422, {"errors": [{"status": "422", "title": p} for p in problems]})
            return None
        return attrs

    def post(self) -> None:
        attrs = self._attributes()
        if attrs is None:
            return
        doi = attrs["doi"].lower()
        if doi in self.box.dois:
            self._answer(422, {"errors": [{"source": "doi", "title": "This DOI has already been taken"}]})
            return
        state = "findable" if attrs.get("event") == "publish" else "draft"
        self.box.dois[doi] = {**attrs, "state": state}
        self._answer(201, {"data": {"id": doi, "type": "dois", "attributes": self.box.dois[doi]}})

    def put(self, doi: str) -> None:
        attrs = self._attributes()
        if attrs is None:
            return
        if doi.lower() not in self.box.dois:
            self._answer(404, {"errors": [{"status": "404", "title": "The resource you are looking for doesn't exist."}]})
            return
        old = self.box.dois[doi.lower()]
        state = "findable" if attrs.get("event") == "publish" else old["state"]
        self.box.dois[doi.lower()] = {**old, **attrs, "state": state}
        self._answer(200, {"data": {"id": doi, "type": "dois", "attributes": self.box.dois[doi.lower()]}})

    def get(self, doi: str) -> None:
        found = self.box.dois.get(doi.lower())
        if found is None:
            self._answer(404, {"errors": [{"status": "404"}]})
        else:
            self._answer(200, {"data": {"id": doi, "type": "dois", "attributes": found}})


class StandIn:
    """The stand-in server in a background thread; ``url`` is its base."""

    def __init__(self, user: str = "NXHUB.TEST", password: str = "s3cret-pw") -> None:
        self.user, self.password = user, password
        self.dois: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.rejected: list[list[str]] = []
        self.down = self.fail_put = False
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        box: dict[str, Any] = {}

        def run() -> None:
            asyncio.set_event_loop(self.loop)

            async def start() -> None:
                app = tornado.web.Application([(r"/dois", _Handler, {"box": self}), (r"/dois/(.+)", _Handler, {"box": self})])
                box["server"] = app.listen(0, address="127.0.0.1")
                box["port"] = next(iter(box["server"]._sockets.values())).getsockname()[1]
                started.set()

            self.loop.run_until_complete(start())
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(10)
        self.server, self.url = box["server"], f"http://127.0.0.1:{box['port']}"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
