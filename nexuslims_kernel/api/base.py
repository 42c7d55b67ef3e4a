"""The base handler: JSON in and out, security headers, body limits, auth, DB off the loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import tornado.web

from nexuslims_kernel.api.context import ApiContext
from nexuslims_kernel.api.errors import ApiError, error_body, exc_from, status_and_message
from nexuslims_kernel.db.acl import Principal
from nexuslims_kernel.errors import NxhubError

log = logging.getLogger("nexuslims_kernel.api")
T = TypeVar("T")
#: Oversized bodies are read and thrown away up to this multiple of the limit, then the connection is cut.
DRAIN_FACTOR = 8
#: Deepest nesting of arrays and objects accepted in a request body (no body needs more than a few levels).
MAX_JSON_DEPTH = 32

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def json_depth(value: Any) -> int:
    """How deeply a parsed JSON value nests arrays and objects (iteratively: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(data: Any) -> str:
    # ensure_ascii keeps "<", ">" and "&" literal but JSON-quoted; no HTML is ever served.
    return json.dumps(data, default=_json_default, separators=(",", ":"))


@tornado.web.stream_request_body
class BaseHandler(tornado.web.RequestHandler):
    """Every API handler: the caller is ``self.principal`` after ``prepare``."""

    principal: Principal
    #: "user" (default: anyone, records filtered by the ACL), "instrument" or "admin".
    audience = "user"

    def initialize(self) -> None:
        self.ctx: ApiContext = self.application.settings["nx"]
        self._chunks: list[bytes] = []
        self._received = 0
        self._deferred: BaseException | None = None

    def set_default_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)
        self.set_header("Content-Type", "application/json; charset=utf-8")

    # -- request body: streamed so oversized bodies are refused before being read --

    async def prepare(self) -> None:
        framing = getattr(self.request.connection, "nx_framing_error", None)
        if framing is not None:  # see app._FramingCheck: no body was read; the connection closes after this
            raise ApiError(*framing)
        length = self.request.headers.get("Content-Length")
        if length is not None and (not length.isdigit() or int(length) > self.ctx.max_body_bytes):
            # Refuse, but answer only once the body is drained (up to DRAIN_FACTOR x the limit),
            # so the client reads a clean 413 instead of a connection reset.
            self.defer(ApiError(413, self._too_big()) if length.isdigit() else ApiError(400, "Content-Length is not a number"))
            return
        try:
            self.principal = await self.ctx.auth.authenticate(self)
            self.check_audience()
        except (ApiError, NxhubError) as exc:
            # Answer after the body is read, so the connection stays usable for keep-alive:
            # tornado drops connections that are finished while it is still reading.
            self.defer(exc)

    def _too_big(self) -> str:
        return f"request body is larger than {self.ctx.max_body_bytes} bytes"

    def defer(self, exc: BaseException) -> None:
        """Fail with ``exc`` once the request body has been read (and discarded)."""
        if self._deferred is None:
            self._deferred = exc
            setattr(self, self.request.method.lower(), self._raise_deferred)

    async def _raise_deferred(self, *_args: Any, **_kwargs: Any) -> None:
        raise self._deferred

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received > self.ctx.max_body_bytes * DRAIN_FACTOR:
            # Stop draining: answer the JSON 413 now; tornado closes the connection once it is sent.
            if not self._finished:
                self.send_error(413, exc_info=(ApiError, ApiError(413, self._too_big()), None))
            return
        if self._received > self.ctx.max_body_bytes:
            self.defer(ApiError(413, self._too_big()))
        if self._deferred is None:
            self._chunks.append(chunk)

    def json_body(self) -> Any:
        """The request body as JSON ({} when empty); 400 when it is not JSON."""
        raw = b"".join(self._chunks)
        if not raw.strip():
            return {}
        too_deep = ApiError(400, f"request body is nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            value = json.loads(raw)
        except RecursionError:  # the C parser stops at Python's recursion limit, long before '[' * 200000 ends
            raise too_deep from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"request body is not valid JSON: {str(exc)[:200]}") from None
        if json_depth(value) > MAX_JSON_DEPTH:
            raise too_deep
        return value

    def valid_body(self, schema: str) -> Any:
        """The JSON body, checked against the OpenAPI document's schema ``schema`` (400 naming the field if not)."""
        from nexuslims_kernel.api.schemas import validate_body

        return validate_body(schema, self.json_body())

    def json_object(self) -> dict[str, Any]:
        body = self.json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "request body must be a JSON object")
        return body

    # -- who may call --

    def check_audience(self) -> None:
        p = self.principal
        if self.audience == "instrument":
            if p.kind != "instrument":
                raise ApiError(401 if p.kind == "anonymous" else 403, "this endpoint needs an instrument (Logger) token")
            return
        if p.kind == "instrument":
            raise ApiError(403, "an instrument token can only post Logger events")
        if self.audience == "admin" and not p.is_admin:
            raise ApiError(401 if p.kind == "anonymous" else 403, "this endpoint is for administrators")

    # -- database work runs in a thread pool so one slow query does not stall the loop --

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.ctx.executor, fn, *args)

    def send_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(dumps(data))

    # -- errors --

    def _handle_request_exception(self, e: BaseException) -> None:  # tornado hook
        if isinstance(e, NxhubError):  # the request's one access-log line says why (api/access_log.py)
            self.nx_error = str(e)
        elif isinstance(e, ApiError):
            self.nx_error = e.message
        super()._handle_request_exception(e)

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, (NxhubError, tornado.web.HTTPError)):
            return  # expected; the access log has the status
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        status, message = status_and_message(status_code, exc_from(kwargs))
        self.clear()
        self.set_status(status)
        for name, value in SECURITY_HEADERS.items():
            self.set_header(name, value)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        if status == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="nxhub"')
        for name, value in getattr(exc_from(kwargs), "headers", {}).items():
            self.set_header(name, value)
        self.finish(error_body(status, message))


class NotFoundHandler(BaseHandler):
    """Unknown paths: a JSON 404."""

    async def get(self, *_args: Any) -> None:
        if self.request.method == "GET" and self.request.path.endswith("/api/v1"):  # typed without the slash
            self.redirect(self.request.path + "/", permanent=True)
            return
        raise ApiError(404, f"no API endpoint {self.request.path[:200]}")

    post = put = patch = delete = head = get
