"""The tornado application: routes, shared context, and a server with body limits."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tornado.httpserver
import tornado.web
from tornado import httputil

from nexuslims_kernel.api import (
    admin,
    admin_stats,
    curation,
    files,
    logger,
    logger_files,
    oai,
    record_parts,
    records,
    tokens,
    zips,
)
from nexuslims_kernel.api.access_log import log_request
from nexuslims_kernel.api.auth import HubAuthenticator, TokenAuth, login_handler, make_hub_auth, oauth_callback_handler
from nexuslims_kernel.api.base import DRAIN_FACTOR, BaseHandler, NotFoundHandler
from nexuslims_kernel.api.context import ApiContext
from nexuslims_kernel.api.openapi import OpenApiHandler
from nexuslims_kernel.config import Settings, get_settings
from nexuslims_kernel.db import Database, get_database
from nexuslims_kernel.ops.metrics import ApiMetrics, MetricsHandler

ID = r"([0-9]{1,18})"
NAME = r"([^/]{1,200})"


class MeHandler(BaseHandler):
    """GET /me: who the API thinks you are."""

    async def get(self) -> None:
        p = self.principal
        self.send_json({"kind": p.kind, "username": p.username, "is_admin": p.is_admin, "instrument": p.instrument_name})


class IndexHandler(BaseHandler):
    """GET /api/v1/: what this service is and where its endpoints are (a browser's first stop)."""

    async def get(self) -> None:
        from nexuslims_kernel import __version__
        from nexuslims_kernel.api.openapi import ENDPOINTS

        base = self.request.path.rstrip("/")
        out = {
            "service": "NexusLIMS Hub API",
            "version": __version__,
            "openapi": f"{base}/openapi.json",
            "you": {"kind": self.principal.kind, "username": self.principal.username},
            "endpoints": sorted({f"{method.upper()} {base}{path}" for method, path, *_ in ENDPOINTS}),
        }
        if self.ctx.settings.api.auth == "jupyterhub":  # where a browser signs in (see auth.login_handler)
            out["login"] = base.removesuffix("/api/v1") + "/login"
        self.send_json(out)


class RootRedirect(tornado.web.RequestHandler):
    """GET / (the service root) sends browsers to the API index."""

    def get(self) -> None:
        self.redirect(self.request.path.rstrip("/") + "/api/v1/")


def routes(prefix: str) -> list[tuple]:
    api = prefix.rstrip("/") + "/api/v1"
    return [
        (rf"{prefix.rstrip('/')}/?", RootRedirect),
        (rf"{prefix.rstrip('/')}/records/{ID}", curation.LandingHandler),  # landing pages: the URL DOIs resolve to
        (rf"{api}/", IndexHandler),
        (rf"{api}/openapi\.json", OpenApiHandler),
        (rf"{api}/me", MeHandler),
        (rf"{api}/me/tokens", tokens.MyTokensHandler),
        (rf"{api}/me/tokens/{ID}", tokens.MyTokensHandler),
        (rf"{api}/logger/events", logger.EventsHandler),
        (rf"{api}/logger/(start|end|note)", logger.EventsHandler),
        (rf"{api}/logger/heartbeat", logger.HeartbeatHandler),
        (rf"{api}/logger/reservations", logger.ReservationsHandler),
        (rf"{api}/logger/files", logger_files.FilesHandler),
        (rf"{api}/oai", oai.OaiHandler),
        (rf"{api}/records", records.RecordsHandler),
        (rf"{api}/records/facets", records.FacetsHandler),
        (rf"{api}/records/{ID}", records.RecordHandler),
        (rf"{api}/records/{ID}/export/([a-z-]{{1,20}})", records.ExportHandler),
        (rf"{api}/records/{ID}/outline", record_parts.OutlineHandler),
        (rf"{api}/records/{ID}/datasets", record_parts.DatasetPageHandler),
        (rf"{api}/records/{ID}/preview", record_parts.RecordPreviewHandler),
        (rf"{api}/records/{ID}/zip", zips.ZipHandler),
        (rf"{api}/records/{ID}/activities/{ID}/zip", zips.ZipHandler),
        (rf"{api}/records/{ID}/files/(.+)", files.RecordFileHandler),
        (rf"{api}/records/{ID}/curation", curation.CurationHandler),
        (rf"{api}/records/{ID}/versions", curation.VersionsHandler),
        (rf"{api}/records/{ID}/versions/{ID}", curation.VersionHandler),
        (rf"{api}/records/{ID}/publish", curation.PublishHandler),
        (rf"{api}/datasets/{ID}", records.DatasetHandler),
        (rf"{api}/datasets/{ID}/file", files.DatasetFileHandler),
        (rf"{api}/datasets/{ID}/preview", files.PreviewHandler),
        (rf"{api}/admin/stats", admin_stats.StatsHandler),
        (rf"{api}/admin/(instruments|users|groups)", admin.CollectionHandler),
        (rf"{api}/admin/(instruments|users){'/'}{NAME}", admin.CollectionHandler),
        (rf"{api}/admin/groups/{NAME}/members/{NAME}", admin.MembershipHandler),
        (rf"{api}/admin/sessions/{ID}/rebuild", admin.RebuildHandler),
        (rf"{api}/admin/records/{ID}/access", admin.AccessHandler),
    ]


def _cookie_secret(hub_auth: Any) -> bytes:
    """The key that signs HubOAuth's cookie, the same in every API process and across restarts.

    Derived from the service's hub API token (a secret only the hub and this
    service know), so a browser logged in through one worker process is
    recognised by the others. Without a token: a random per-process key.
    """
    token = getattr(hub_auth, "api_token", None)
    if not token:
        return secrets.token_bytes(32)
    return hmac.new(token.encode(), b"nxhub-api oauth cookie", hashlib.sha256).digest()


def db_threads(settings: Settings) -> int:
    """Queries in flight per process: about one per core keeps latency even when the host is busy."""
    return settings.api.threads or max(2, os.cpu_count() or 2)


def make_app(settings: Settings | None = None, db: Database | None = None, hub_auth: Any = None,
             metrics_dir: Path | None = None) -> tornado.web.Application:
    """The API application; ``hub_auth`` overrides the HubOAuth built from the hub's environment.

    ``metrics_dir``: request metrics shared by forked API processes (see ops.metrics.use_shared_dir).
    """
    settings = settings or get_settings()
    db = db or get_database(settings.db_url)
    prefix = settings.api.base_path if settings.api.base_path.endswith("/") else settings.api.base_path + "/"
    handlers = routes(prefix)
    if settings.api.auth == "jupyterhub":
        hub_auth = hub_auth or make_hub_auth(prefix)
        auth: Any = HubAuthenticator(db, hub_auth)
        handlers.append((rf"{prefix}oauth_callback", oauth_callback_handler(), {"hub_auth": hub_auth}))
        handlers.append((rf"{prefix}login", login_handler(), {"hub_auth": hub_auth, "prefix": prefix}))
    else:
        auth = TokenAuth(db)
    cookie_secret = _cookie_secret(hub_auth) if settings.api.auth == "jupyterhub" else None
    ctx = ApiContext(settings=settings, db=db, auth=auth, executor=ThreadPoolExecutor(db_threads(settings), thread_name_prefix="nxhub-api"))
    metrics = ApiMetrics(settings, db, handlers + [(rf"{prefix}metrics",)], prefix, multiprocess_dir=metrics_dir)
    handlers.append((rf"{prefix}metrics", MetricsHandler, {"metrics": metrics, "token": settings.ops.metrics_token}))

    def log_function(handler: tornado.web.RequestHandler) -> None:
        log_request(handler)  # one line per request
        metrics.observe(handler)

    return tornado.web.Application(
        handlers, nx=ctx, hub_auth=hub_auth, default_handler_class=NotFoundHandler, xheaders=False,
        cookie_secret=cookie_secret, compress_response=False, serve_traceback=False, debug=False,
        log_function=log_function,
    )


class _FramingCheck(httputil.HTTPMessageDelegate):
    """Refuse bad request framing with the API's JSON errors instead of tornado's bare 400.

    tornado rejects a non-numeric, repeated or too large ``Content-Length`` (and
    one combined with ``Transfer-Encoding``) after the handler has started, with
    a body-less 400. Here such headers are removed before tornado reads the body,
    the problem is left on the connection for :meth:`BaseHandler.prepare` to
    answer as JSON, and the connection is closed after the answer (the unread
    body cannot be told apart from a next request).
    """

    def __init__(self, delegate: httputil.HTTPMessageDelegate, request_conn: Any, max_body: int) -> None:
        self.delegate, self.request_conn, self.max_body = delegate, request_conn, max_body

    def headers_received(self, start_line: Any, headers: httputil.HTTPHeaders) -> Any:
        problem = framing_problem(headers, self.max_body)
        if problem is not None:
            headers.pop("Content-Length", None)
            headers.pop("Transfer-Encoding", None)
            self.request_conn._disconnect_on_finish = True
            self.request_conn.nx_framing_error = problem
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()

    def on_connection_close(self) -> None:
        self.delegate.on_connection_close()


def framing_problem(headers: httputil.HTTPHeaders, max_body: int) -> tuple[int, str] | None:
    """(status, message) when the request's body framing is unacceptable, else None."""
    lengths = headers.get_list("Content-Length")
    encoding = headers.get_list("Transfer-Encoding")
    if lengths and encoding:
        return 400, "send either Content-Length or Transfer-Encoding, not both"
    if encoding and (len(encoding) > 1 or encoding[0].strip().lower() != "chunked"):
        return 400, "Transfer-Encoding must be chunked"
    if not lengths:
        return None
    if len(lengths) > 1 or "," in lengths[0]:
        return 400, "Content-Length is given more than once"
    if not re.fullmatch(r"[0-9]{1,19}", lengths[0].strip()):
        return 400, "Content-Length is not a whole number"
    if int(lengths[0]) > max_body:
        return 413, f"request body is larger than {max_body // DRAIN_FACTOR} bytes"
    return None


class ApiHTTPServer(tornado.httpserver.HTTPServer):
    """tornado's server with the API's own answers to bad framing (:class:`_FramingCheck`)."""

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return _FramingCheck(super().start_request(server_conn, request_conn), request_conn, self.nx_max_body)


def make_server(app: tornado.web.Application, sock: socket.socket | list[socket.socket] | None = None, host: str = "127.0.0.1",
                port: int = 0) -> tuple[tornado.httpserver.HTTPServer, int]:
    """Start serving ``app`` on ``host:port`` (0 = any free port) or on bound ``sock``(s); returns (server, port).

    Handlers stream bodies and refuse oversized ones with a JSON 413 themselves;
    the server cuts off anything beyond DRAIN_FACTOR times the limit.
    """
    limit = app.settings["nx"].max_body_bytes * DRAIN_FACTOR
    # tornado's own cut-off sits one limit further, so a chunked body is answered by the handler's JSON 413 first.
    server = ApiHTTPServer(app, max_body_size=limit + app.settings["nx"].max_body_bytes, idle_connection_timeout=60)
    server.nx_max_body = limit
    if sock is None:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    socks = sock if isinstance(sock, list) else [sock]
    server.add_sockets(socks)
    return server, socks[0].getsockname()[1]
