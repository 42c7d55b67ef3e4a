"""How pages say times, sizes and people (plain text; escaping happens where it becomes HTML)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo


def when(value: str | None, tz: str | None = None, with_date: bool = True) -> str:
    """``Mon 2 Mar 2026, 09:00 UTC`` (in the instrument's zone when known)."""
    if not value:
        return ""
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if tz:
        try:
            t = t.astimezone(ZoneInfo(tz))
        except (KeyError, ValueError):
            pass
    zone = t.tzname() or ""
    return (t.strftime("%a %-d %b %Y, %H:%M") if with_date else t.strftime("%H:%M")) + (f" {zone}" if zone else "")


def span(start: str | None, end: str | None, tz: str | None = None) -> str:
    if not start:
        return ""
    if end and end[:10] == start[:10]:
        return f"{when(start, tz)} – {when(end, tz, with_date=False)}"
    return f"{when(start, tz)} – {when(end, tz)}" if end else when(start, tz)


def size(n: Any) -> str:
    if not isinstance(n, (int, float)):
        return ""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return ""


def names(people: Any) -> str:
    """Experimenters as the header holds them (dicts or names) → ``Alice Liddell, Bob``."""
    out = []
    for p in people or []:
        out.append(str(p.get("name") or p.get("username") or "") if isinstance(p, dict) else str(p))
    return ", ".join(x for x in out if x)


def quantity(value: Any) -> tuple[str, str | None]:
    """A normalised field as (text, unit): ``{"value": 300, "units": "kV"}`` → ("300", "kV")."""
    if isinstance(value, dict) and "value" in value:
        v = value["value"]
        text = f"{v:.4g}" if isinstance(v, float) else str(v)
        return text, value.get("units") or value.get("unit")
    if isinstance(value, list):
        return ", ".join(quantity(v)[0] + (f" {quantity(v)[1]}" if quantity(v)[1] else "") for v in value), None
    if isinstance(value, dict):
        return ", ".join(f"{k}: {quantity(v)[0]}" for k, v in value.items()), None
    return ("" if value is None else str(value)), None
