"""Acquisition time as an ISO 8601 string with a UTC offset.

Readers give ``General.date`` / ``time`` and sometimes ``time_zone`` (a zone
name or an offset). Naive times are put in the instrument's zone (from its
profile) or, failing that, the machine's local zone, and a warning says which.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?$")


def _tzinfo(name: str | None) -> dt.tzinfo | None:
    if not name:
        return None
    text = str(name).strip()
    if text.upper() in ("UTC", "GMT", "Z"):
        return dt.timezone.utc
    match = _OFFSET.match(text)
    if match:
        sign, hours, minutes = match.groups()
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes or 0))
        return dt.timezone(-delta if sign == "-" else delta)
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(text)
    except Exception:
        pass
    try:
        from dateutil import tz

        return tz.gettz(text)
    except Exception:
        return None


def _parse(date: str, time: str | None) -> dt.datetime | None:
    text = f"{date}T{time or '00:00:00'}".strip()
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        pass
    try:
        from dateutil import parser

        return parser.parse(f"{date} {time or ''}".strip())
    except (ValueError, OverflowError):
        return None


def acquisition_time(general: dict[str, Any], mtime: float | None, profile_tz: str | None) -> tuple[str | None, str, list[str]]:
    """(ISO time with offset, source 'file'|'mtime', warnings) for one signal."""
    warnings: list[str] = []
    date = general.get("date")
    stamp = _parse(str(date), general.get("time")) if date else None
    if stamp is None:
        if mtime is None:
            return None, "none", ["no acquisition time in file and no file modification time"]
        stamp = dt.datetime.fromtimestamp(mtime).astimezone()
        return stamp.isoformat(), "mtime", ["no acquisition time in file; using file modification time"]
    if stamp.tzinfo is None:
        zone = _tzinfo(general.get("time_zone"))
        if zone is not None:
            stamp = stamp.replace(tzinfo=zone)
        elif profile_tz and _tzinfo(profile_tz) is not None:
            stamp = stamp.replace(tzinfo=_tzinfo(profile_tz))
            warnings.append(f"acquisition time has no time zone; interpreted in the instrument's zone {profile_tz}")
        else:
            stamp = stamp.astimezone()
            warnings.append("acquisition time has no time zone; interpreted in this machine's local time zone")
    return stamp.isoformat(), "file", warnings
