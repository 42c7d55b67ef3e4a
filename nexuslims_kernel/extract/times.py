"""Acquisition time as an ISO 8601 string with a UTC offset.

Readers give ``General.date`` / ``time`` and sometimes ``time_zone`` (a zone
name or an offset). Naive times are wall-clock times of the instrument PC, so
they are put in the instrument's zone (from its profile) or, failing that, the
machine's local zone, and a warning names the zone assumed: never silently UTC.
Some readers attach *the reading machine's* zone to a naive vendor time
(:data:`READER_LOCAL_ZONE_FORMATS`); that zone is discarded.

Sources: ``file`` (date and time from the file), ``file-date`` (only a date in
the file; time of day from the file's mtime, which fell on that date),
``mtime`` (nothing usable in the file: the file's modification time).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?$")

# Formats whose reader labels a naive vendor time with the reading machine's zone
# (rsciio blockfile: serial date taken as UTC, shown in local time; phenom: local
# zone name). Their wall-clock time is recovered and treated as naive.
READER_LOCAL_ZONE_FORMATS = {"blo": "as-utc", "elid": "wall"}

# Vendor defaults written when the clock was not set (blockfile: 1970-01-02).
EARLIEST_PLAUSIBLE_YEAR = 1990


def _tzinfo(name: str | None) -> dt.tzinfo | None:
    if not name:
        return None
    text = str(name).strip()
    if text.upper() in ("UTC", "GMT", "Z"):
        return dt.UTC
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

        return parser.parse(f"{date} {time or ''}".strip(), dayfirst="." in date)
    except (ValueError, OverflowError):
        return None


def _assumed_zone(profile_tz: str | None) -> tuple[dt.tzinfo | None, str]:
    """The zone for naive times (None: this machine's local zone) and how to name it in a warning."""
    zone = _tzinfo(profile_tz) if profile_tz else None
    if zone is not None:
        return zone, f"the instrument's zone {profile_tz}"
    return None, f"this machine's local time zone ({dt.datetime.now().astimezone().tzname() or 'unnamed'})"


def _in_zone(naive: dt.datetime, zone: dt.tzinfo | None) -> dt.datetime:
    """``naive`` wall-clock time placed in ``zone``; local time (with its DST rules) when None."""
    return naive.astimezone() if zone is None else naive.replace(tzinfo=zone)


def _from_mtime(mtime: float | None, why: str, warnings: list[str]) -> tuple[str | None, str, list[str]]:
    if mtime is None:
        return None, "none", warnings + [f"{why} and no file modification time"]
    stamp = dt.datetime.fromtimestamp(mtime).astimezone()
    return stamp.isoformat(), "mtime", warnings + [f"{why}; using file modification time"]


def _date_only(day: dt.date, mtime: float | None, profile_tz: str | None) -> tuple[str | None, str, list[str]]:
    """A date without a time of day: borrow the time from mtime when it fell on that date."""
    if mtime is None:
        return None, "none", [f"file gives only a date ({day.isoformat()}) and no file modification time"]
    zone, label = _assumed_zone(profile_tz)
    modified = dt.datetime.fromtimestamp(mtime, tz=zone) if zone else dt.datetime.fromtimestamp(mtime).astimezone()
    if modified.date() == day:
        why = f"file gives only a date ({day.isoformat()}); time of day taken from the file modification time, in {label}"
        return modified.isoformat(), "file-date", [why]
    return _from_mtime(mtime, f"file gives only a date ({day.isoformat()}), not the day the file was modified", [])


def acquisition_time(general: dict[str, Any], mtime: float | None, profile_tz: str | None,
                     fmt: str | None = None) -> tuple[str | None, str, list[str]]:
    """(ISO time with offset, source 'file'|'file-date'|'mtime'|'none', warnings) for one signal."""
    date = str(general.get("date") or "").strip()
    time = str(general.get("time") or "").strip()
    stamp = _parse(date, time or None) if date else None
    if stamp is None:
        return _from_mtime(mtime, "no acquisition time in file", [])
    if stamp.year < EARLIEST_PLAUSIBLE_YEAR:
        return _from_mtime(mtime, f"acquisition time {stamp.date().isoformat()} in file is a placeholder (before "
                                  f"{EARLIEST_PLAUSIBLE_YEAR})", [])
    if not time:
        return _date_only(stamp.date(), mtime, profile_tz)
    zone_text = general.get("time_zone")
    handling = READER_LOCAL_ZONE_FORMATS.get(fmt or "")
    if stamp.tzinfo is None and zone_text and handling:
        if handling == "as-utc" and _tzinfo(zone_text) is not None:  # reader shifted a UTC-taken wall time
            stamp = stamp.replace(tzinfo=_tzinfo(zone_text)).astimezone(dt.UTC).replace(tzinfo=None)
        zone_text = None
    if stamp.tzinfo is None:
        zone = _tzinfo(zone_text)
        if zone is not None:
            stamp = stamp.replace(tzinfo=zone)
        else:
            assumed, label = _assumed_zone(profile_tz)
            stamp = _in_zone(stamp, assumed)
            warnings = [f"acquisition time has no time zone; interpreted in {label}"]
            return stamp.isoformat(), "file", warnings
    return stamp.isoformat(), "file", []
