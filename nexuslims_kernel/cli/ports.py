"""Is the port free? Asked before a server command starts anything (worker, demo, database).

A busy port used to surface as an ``OSError: [Errno 98]`` traceback after the
build worker had already started. :func:`require_free_port` turns it into one
line saying how to choose another port.
"""

from __future__ import annotations

import errno
import socket

from nexuslims_kernel.errors import NxhubError


class PortInUseError(NxhubError):
    """The address a server should listen on is taken."""

    exit_code = 69  # EX_UNAVAILABLE


IN_USE = "in use by another program"


def bind_problem(host: str, port: int) -> str | None:
    """None when a server could listen on ``host:port`` now, else why not (``IN_USE`` when another program has it)."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return exc.strerror or str(exc)
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is no conflict
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return IN_USE
                if exc.errno != errno.EADDRNOTAVAIL:  # e.g. no IPv6 on this host: the server skips it too
                    return exc.strerror or str(exc)
    return None


def require_free_port(host: str, port: int) -> None:
    """Raise :class:`PortInUseError` when nothing could listen on ``host:port`` now (port 0 is always free)."""
    if not port:
        return
    problem = bind_problem(host, port)
    if problem == IN_USE:
        raise PortInUseError(f"port {port} on {host} is in use; choose another with --port N or NXHUB_API_PORT=N")
    if problem:
        raise NxhubError(f"cannot listen on {host}:{port}: {problem}")
