"""What every harvester hands over: bookings (usage or reservations) and how complete the listing was.

A harvester only *reads* its calendar and turns what it reads into
:class:`Booking` objects; :mod:`.store` alone writes them to the database, so
NEMO, iCalendar and any plug-in obey the same idempotency and session rules.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any, Protocol

from nexuslims_kernel.errors import NxhubError

UTC = dt.UTC


class HarvestError(NxhubError):
    """A calendar could not be read (down, refused, malformed); nothing was changed."""

    exit_code = 75  # EX_TEMPFAIL: try again later


@dataclasses.dataclass(frozen=True)
class PersonRef:
    """How a calendar names a person; matched to ``people`` by external id, username, then email."""

    username: str | None = None
    email: str | None = None
    display_name: str | None = None
    external_key: str | None = None  # e.g. "nemo:127.0.0.1:8000/api"
    external_id: Any = None
    create: bool = True  # add a person when none matches (calendars that give a real username)


@dataclasses.dataclass(frozen=True)
class ProjectRef:
    name: str
    title: str | None = None
    external_key: str | None = None
    external_id: Any = None


@dataclasses.dataclass
class Booking:
    """One usage (becomes a session once ended) or reservation (fills headers) read from a calendar.

    ``details`` uses the keys of ``sessions.reservation`` that the record header
    reads (title, motivation, samples, project, url); ``consent`` is False only
    for an explicit "no".
    """

    kind: str  # "usage" | "reservation"
    source: str  # SessionSource value: nemo | ical
    external_id: str
    instrument_id: int
    start: dt.datetime
    end: dt.datetime | None
    person: PersonRef | None = None
    project: ProjectRef | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)
    consent: bool | None = None
    cancelled: bool = False
    label: str = ""  # how errors name it: "usage event 17", "event 'Alice' 2026-03-01"

    def fingerprint(self) -> str:
        """sha256 of what the calendar said; a person or project counts by its calendar id when it has one
        (their names are fetched only when first seen, so they must not change the fingerprint)."""
        data = [self.kind, self.source, self.external_id, self.instrument_id, self.start, self.end,
                _identity(self.person), _identity(self.project), self.details, self.consent, self.cancelled]
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _identity(ref: PersonRef | ProjectRef | None) -> Any:
    if ref is None:
        return None
    if ref.external_id is not None:
        return [ref.external_key, ref.external_id]
    return dataclasses.astuple(ref)


@dataclasses.dataclass
class Fetched:
    """What one pass read. ``window`` set: every booking of these instruments ending in it was listed
    (so one not listed was deleted); ``cursor`` is saved only after the bookings are stored."""

    bookings: list[Booking]
    cursor: dict[str, Any]
    window: tuple[dt.datetime, dt.datetime] | None = None
    requests: int = 0
    unchanged: bool = False  # the calendar said "not modified"
    errors: list[str] = dataclasses.field(default_factory=list)
    # given external ids that look deleted, returns those the source still has (asked before cancelling)
    confirm_missing: Callable[[list[str]], set[str]] | None = None


class Source(Protocol):
    """One server or feed; ``key`` names it in progress lines, errors and harvest_state (never a token)."""

    kind: str
    key: str  # stable: prefixes external ids
    label: str  # for people: the URL or file, never a token
    instrument_ids: list[int]

    def fetch(self, cursor: dict[str, Any], *, since: dt.datetime | None, full: bool, now: dt.datetime,
              known: dict[str, set[int]] | None = None) -> Fetched: ...

    def close(self) -> None: ...


def as_utc(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Aware UTC; naive times are taken in ``zone`` (the server's or instrument's)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)
