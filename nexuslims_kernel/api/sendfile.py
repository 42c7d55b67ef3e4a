"""File bytes from the page cache straight to the client's socket (``sendfile``), around tornado's buffer.

Reading a file into Python to hand it to tornado costs two copies and the
GIL per megabyte; on a small host that, not the disk, limited downloads.
When the connection is plain TCP on tornado's HTTP/1 stream and everything
tornado buffered has been sent, :func:`send_span` lets the kernel copy the
file, then credits tornado's Content-Length accounting (a private counter,
checked by :func:`plain_socket` before anything is sent that way, so a
tornado without it simply gets the read path).
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from pathlib import Path
from typing import Any

#: False turns sendfile off everywhere (the read path is always correct, only slower)
ENABLED = hasattr(os, "sendfile")


def plain_socket(handler: Any) -> socket.socket | None:
    """The connection's socket if file bytes may go out with ``sendfile``, else None."""
    conn = handler.request.connection
    sock = getattr(getattr(conn, "stream", None), "socket", None)
    if not ENABLED or sock is None or isinstance(sock, ssl.SSLSocket) or not hasattr(conn, "_expected_content_remaining"):
        return None
    return sock


async def send_span(handler: Any, sock: socket.socket, path: str | Path, offset: int, count: int) -> None:
    """Send ``count`` bytes of ``path`` from ``offset``; tornado's own buffer must be empty (await its writes first).

    Raises OSError when the file is shorter than promised (it changed while being sent).
    """
    with open(path, "rb") as fh:
        sent = await asyncio.get_running_loop().sock_sendfile(sock, fh, offset, count) if count else 0
    conn = handler.request.connection
    if conn._expected_content_remaining is not None:
        conn._expected_content_remaining -= sent
    if sent != count:
        raise OSError(f"{path} changed size while it was being sent")
