"""One log line per API request: status, method, path, client, time and, on failure, why.

tornado's own access log plus a line per expected error logged failed requests twice;
this is the application's ``log_function``, the only place a request is logged.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("nexuslims_kernel.api.access")


def log_request(handler: Any) -> None:
    """tornado's ``log_function``: INFO below 400, WARNING for client errors, ERROR for server errors."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    if not log.isEnabledFor(level):
        return
    request = handler.request
    reason = getattr(handler, "nx_error", None)
    log.log(level, "%d %s %s (%s) %.1f ms%s", status, request.method, request.path, request.remote_ip,
            1000.0 * request.request_time(), f": {reason}" if reason else "")
