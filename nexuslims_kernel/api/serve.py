"""Serve the API from one process or from several forked ones sharing the listening socket.

Python runs one request's JSON and ORM work at a time per process; on a
multi-core host a few worker processes (``nxhub api serve --processes N``)
accept from the same socket. The parent only supervises: it forwards
SIGTERM/SIGINT to the workers and exits when they have all gone, so no worker
outlives it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from tornado.netutil import bind_sockets

from nexuslims_kernel.api.app import make_app, make_server
from nexuslims_kernel.config import Settings
from nexuslims_kernel.db import Database
from nexuslims_kernel.ops.metrics import reset_shared_dir, use_shared_dir


def metrics_dir(settings: Settings) -> Path:
    """Where forked API processes keep their request metrics (cleared when the service starts)."""
    return settings.data_dir / "run" / "api-metrics"


def _serve(settings: Settings, make_db: Callable[[], Database], sockets: list[socket.socket] | None, host: str, port: int,
           announce: Callable[[int], None]) -> None:
    shared = None
    if sockets is not None:  # a forked worker process
        shared = metrics_dir(settings)
        use_shared_dir(shared)

    async def main() -> None:
        server, bound = make_server(make_app(settings, make_db(), metrics_dir=shared), sockets, host=host, port=port)
        announce(bound)
        await asyncio.Event().wait()

    asyncio.run(main())


def serve(settings: Settings, make_db: Callable[[], Database], host: str, port: int, processes: int,
          announce: Callable[[int], None]) -> None:
    """Serve until interrupted; ``make_db`` is called in each worker, after the fork (no shared connections)."""
    if processes <= 1:
        _serve(settings, make_db, None, host, port, announce)
        return
    sockets = bind_sockets(port, address=host, reuse_port=False)
    reset_shared_dir(metrics_dir(settings))
    children: set[int] = set()
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                _serve(settings, make_db, sockets, host, port, announce if not children else (lambda _p: None))
            finally:
                os._exit(0)
        children.add(pid)
    for s in sockets:
        s.close()

    def stop(signum: int, _frame: object) -> None:
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while children:
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        children.discard(pid)
        stop(signal.SIGTERM, None)  # one worker gone: take the rest down too (the supervisor restarts the service)
    sys.exit(0)
