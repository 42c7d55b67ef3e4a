"""JSON error bodies: ``{"error": {"status": 404, "message": "..."}}``, never a traceback."""

from __future__ import annotations

import http
import json
from typing import Any

from tornado.web import HTTPError

from nexuslims_kernel.errors import NxhubError


class ApiError(HTTPError):
    """An HTTP error whose message is safe to show the client."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, reason=None)
        self.message = message
        self.headers = dict(headers or {})  # kept on the error response (e.g. Content-Range on a 416)

    def __str__(self) -> str:
        return f"HTTP {self.status_code}: {self.message}"


def status_and_message(status: int, exc: BaseException | None) -> tuple[int, str]:
    """The status code and client-facing message for an exception (or a bare status)."""
    if isinstance(exc, ApiError):
        return exc.status_code, exc.message
    if isinstance(exc, NxhubError):
        return exc.http_status, str(exc)
    if isinstance(exc, HTTPError):
        status = exc.status_code
    if status >= 500:
        return status, "internal server error" if status == 500 else _phrase(status)
    return status, _phrase(status)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"


def error_body(status: int, message: str) -> str:
    return json.dumps({"error": {"status": status, "message": message}})


def exc_from(kwargs: dict[str, Any]) -> BaseException | None:
    info = kwargs.get("exc_info")
    return info[1] if info else None
