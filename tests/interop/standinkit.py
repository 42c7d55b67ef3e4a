"""What the loopback stand-ins (CDCS, eLabFTW) share: a threaded HTTP server on a free port, and a quiet
handler whose verbs all go to one ``_route(method)``."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LoopbackServer:
    """A stand-in's server on 127.0.0.1, served from a daemon thread; ``stop()`` shuts it."""

    def serve(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RoutedHandler(BaseHTTPRequestHandler):
    """No access log; GET, POST and PATCH all go to ``_route``."""

    def log_message(self, *args):
        pass

    def _route(self, method: str) -> None:
        raise NotImplementedError

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_PATCH(self):
        self._route("PATCH")
