"""Query-string parsing for list endpoints, with one-line 400 errors."""

from __future__ import annotations

import datetime as dt

from tornado.web import RequestHandler

from nexuslims_kernel.api.errors import ApiError
from nexuslims_kernel.db.record_query import RecordFilter

MAX_PARAM = 500


def text_arg(handler: RequestHandler, name: str) -> str | None:
    value = handler.get_query_argument(name, None)
    if value is None or value == "":
        return None
    if len(value) > MAX_PARAM or "\x00" in value:
        raise ApiError(400, f"query parameter {name!r} is too long or contains NUL")
    return value


def time_arg(handler: RequestHandler, name: str) -> dt.datetime | None:
    value = text_arg(handler, name)
    return None if value is None else utc_instant(value, name)


def utc_instant(value: str, name: str) -> dt.datetime:
    """``value`` (ISO-8601; naive means UTC) as an aware UTC time; 400 naming ``name`` if it is not one.

    Times whose shift to UTC leaves the calendar (``0001-01-01T00:00+01:00``)
    are refused here rather than failing later in a query or a column.
    """
    try:
        parsed = dt.datetime.fromisoformat(value)
        return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError, TypeError):
        raise ApiError(400, f"{name} must be an ISO-8601 date or time between years 1 and 9999 in UTC, e.g. 2026-03-01") from None


def int_arg(handler: RequestHandler, name: str, default: int) -> int:
    value = text_arg(handler, name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number") from None


def bool_arg(handler: RequestHandler, name: str, default: bool) -> bool:
    value = text_arg(handler, name)
    if value is None:
        return default
    if value.lower() in ("1", "true", "yes"):
        return True
    if value.lower() in ("0", "false", "no"):
        return False
    raise ApiError(400, f"{name} must be true or false")


def record_filter(handler: RequestHandler) -> RecordFilter:
    return RecordFilter(
        q=text_arg(handler, "q"),
        instrument=text_arg(handler, "instrument"),
        user=text_arg(handler, "user"),
        start_from=time_arg(handler, "from"),
        start_to=time_arg(handler, "to"),
        dataset_type=text_arg(handler, "dataset_type"),
        format=text_arg(handler, "format"),
    )
