"""The record header: who, what, where and why, from the session and its reservation.

The header is stored as JSON on the record (``Record.header``) with these keys:

``title``; ``experimenters`` / ``collaborators``: ``[{"username", "name"}]``;
``motivation``; ``samples``: ``[{"id", "name", "description", "elements"}]``;
``project``: ``{"name", "title", "group", "ref"}`` or null;
``instrument``: ``{"name", "display_name", "location", "timezone"}``;
``reservation``: ``{"start", "end", "source", "external_id", "ref"}``;
``note``: the session note (Logger) or null.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from nexuslims_kernel.db.models import Instrument, InstrumentSession, Person, Project


def _person(person: Person) -> dict[str, Any]:
    return {"username": person.username, "name": person.display_name or person.username}


def _people(items: Any) -> list[dict[str, Any]]:
    """Reservation people given as names or ``{"username", "name"}`` dicts."""
    out = []
    for item in items or []:
        if isinstance(item, dict):
            name = item.get("name") or item.get("display_name") or item.get("username")
            if name:
                out.append({"username": item.get("username"), "name": str(name)})
        elif item:
            out.append({"username": None, "name": str(item)})
    return out


def _samples(items: Any) -> list[dict[str, Any]]:
    """Reservation samples given as names or dicts; each gets a document-unique id."""
    if isinstance(items, (str, dict)):
        items = [items]
    out = []
    for n, item in enumerate(items or [], start=1):
        data = item if isinstance(item, dict) else {"name": str(item)}
        elements = data.get("elements") or []
        if isinstance(elements, str):
            elements = [e.strip() for e in elements.replace(",", " ").split()]
        out.append(
            {
                "id": str(data.get("id") or f"sample-{n}"),
                "name": data.get("name"),
                "description": data.get("description"),
                "elements": [str(e) for e in elements],
            }
        )
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def default_title(session: InstrumentSession, instrument: Instrument, person: Person | None) -> str:
    """``<instrument> session <local date> (<user>)`` for sessions without a reservation title."""
    when = session.start or session.end
    date = ""
    if when is not None:
        try:
            zone = ZoneInfo(instrument.timezone or "UTC")
        except (KeyError, ValueError):
            zone = dt.UTC
        date = when.astimezone(zone).date().isoformat()
    who = person.username if person else "unknown user"
    return f"{instrument.display_name or instrument.name} session {date} ({who})".replace("  ", " ")


def build_header(
    session: InstrumentSession, instrument: Instrument, person: Person | None, project: Project | None
) -> dict[str, Any]:
    """The header dict of the record of ``session`` (see the module doc for its keys)."""
    res = dict(session.reservation or {})
    experimenters = _people(res.get("experimenters"))
    if person is not None and not any(e.get("username") == person.username for e in experimenters):
        experimenters.insert(0, _person(person))
    title = str(res.get("title") or "").strip() or default_title(session, instrument, person)
    proj = None
    if project is not None:
        proj = {
            "name": project.name,
            "title": project.title,
            "group": project.group.name if project.group else None,
            "ref": (project.external_ids or {}).get("url"),
        }
    elif res.get("project"):
        proj = {"name": str(res["project"]), "title": None, "group": None, "ref": None}
    return {
        "title": title,
        "experimenters": experimenters,
        "collaborators": _people(res.get("collaborators")),
        "motivation": res.get("motivation") or None,
        "samples": _samples(res.get("samples")),
        "project": proj,
        "instrument": {
            "name": instrument.name,
            "display_name": instrument.display_name or instrument.name,
            "location": instrument.location,
            "timezone": instrument.timezone,
        },
        "reservation": {
            "start": _iso(session.start),
            "end": _iso(session.end),
            "source": session.source,
            "external_id": session.external_id,
            "ref": res.get("url") or res.get("ref"),
        },
        "note": session.note or None,
    }
