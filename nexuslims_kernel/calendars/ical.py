"""iCalendar (RFC 5545) feeds: one per instrument, a URL (Outlook, Google, Nextcloud) or a file.

Per instrument, ``harvester_settings``: ``url`` or ``path``; ``sessions``
(default true: an event that has ended becomes a session, source ``ical``;
false: events only fill the headers of Logger or inferred sessions);
``lookback_days`` (30) and ``ahead_days`` (60) bound the expansion window;
``timeout_s``.

Recurring events are expanded with ``recurring-ical-events`` (RRULE, RDATE,
EXDATE and moved or cancelled instances via RECURRENCE-ID); all-day events
span whole days in the instrument's zone, floating times are taken in it too.
People match by the organizer's (else first attendee's) email, then by the
email's local part as a username, or by an ``X-NXHUB-USERNAME`` property.
``Consent: no`` (or ``X-NXHUB-CONSENT:NO``) and ``Samples: a, b`` lines of the
description give consent and samples. A feed is a complete listing, so an
instance that disappears from it cancels its session. An unchanged feed costs
one conditional request (ETag / Last-Modified) or one ``stat``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zoneinfo
from pathlib import Path
from typing import Any

import httpx
import icalendar
import recurring_ical_events

from nexuslims_kernel.calendars.base import UTC, Booking, Fetched, HarvestError, PersonRef, as_utc
from nexuslims_kernel.calendars.questions import consent_of
from nexuslims_kernel.db.clean import db_clean
from nexuslims_kernel.db.models import Instrument
from nexuslims_kernel.errors import ConfigError

_LINE = re.compile(r"(?im)^\s*(data\s+consent|consent|samples?)\s*:\s*(.+?)\s*$")


class IcalSource:
    kind = "ical"

    def __init__(self, inst: Instrument, *, client: httpx.Client | None = None) -> None:
        cfg = inst.harvester_settings or {}
        self.url, self.path = cfg.get("url"), cfg.get("path")
        if not self.url and not self.path:
            raise ConfigError(f"instrument {inst.name}: harvester ical needs 'url' or 'path' of the .ics feed")
        if self.url and not str(self.url).startswith(("http://", "https://")):
            raise ConfigError(f"instrument {inst.name}: ical url must start with http:// or https://")
        self.key = f"instrument-{inst.id}"
        self.label = f"{inst.name} ({re.sub(r'://[^/@]*@', '://***@', str(self.url)) if self.url else self.path})"
        self.instrument_ids = [inst.id]
        self.instrument_id = inst.id
        try:
            self.zone = zoneinfo.ZoneInfo(inst.timezone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"instrument {inst.name}: unknown time zone {inst.timezone!r}") from None
        self.sessions = bool(cfg.get("sessions", True))
        self.lookback = dt.timedelta(days=float(cfg.get("lookback_days", 30)))
        self.ahead = dt.timedelta(days=float(cfg.get("ahead_days", 60)))
        self.client = client or httpx.Client(timeout=float(cfg.get("timeout_s", 30)), follow_redirects=True)

    def close(self) -> None:
        self.client.close()

    def _read(self, cursor: dict[str, Any], conditional: bool) -> tuple[bytes | None, dict[str, Any], int]:
        """(content or None when unchanged, validators, requests made)."""
        if self.path:
            try:
                st = Path(self.path).stat()
                stamp = {"mtime_ns": st.st_mtime_ns, "size": st.st_size}
                if conditional and all(cursor.get(k) == v for k, v in stamp.items()):
                    return None, stamp, 0
                return Path(self.path).read_bytes(), stamp, 0
            except OSError as exc:
                raise HarvestError(f"ical {self.label}: cannot read the file ({exc.strerror}); nothing changed") from None
        headers = {}
        if conditional and cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if conditional and cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        try:
            resp = self.client.get(self.url, headers=headers)
        except httpx.HTTPError as exc:
            raise HarvestError(f"ical {self.label}: cannot reach the feed ({type(exc).__name__}: {exc}); nothing changed") from None
        if resp.status_code == 304:
            return None, {}, 1
        if resp.status_code != 200:
            raise HarvestError(f"ical {self.label}: the feed answered HTTP {resp.status_code}")
        return resp.content, {"etag": resp.headers.get("etag"), "last_modified": resp.headers.get("last-modified")}, 1

    def _time(self, value: Any) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return as_utc(value, self.zone)
        if isinstance(value, dt.date):  # all-day: midnight in the instrument's zone (DTEND is exclusive)
            return dt.datetime.combine(value, dt.time(0), tzinfo=self.zone).astimezone(UTC)
        raise ValueError(f"not a date or time: {value!r}")

    def _person(self, ev: Any) -> PersonRef | None:
        username = str(ev.get("X-NXHUB-USERNAME") or "").strip() or None
        who = ev.get("ORGANIZER") or (ev.get("ATTENDEE") if not isinstance(ev.get("ATTENDEE"), list) else ev.get("ATTENDEE")[0])
        email, name = None, None
        if who is not None:
            address = str(who)
            email = address[7:] if address.lower().startswith("mailto:") else None
            name = str(who.params.get("CN")) if getattr(who, "params", None) and who.params.get("CN") else None
        if not username and email:
            username = email.split("@", 1)[0]
        if not username and not email:
            return None
        return PersonRef(username=username, email=email, display_name=name, create=False)

    def _details(self, ev: Any) -> tuple[dict[str, Any], bool | None]:
        details: dict[str, Any] = {}
        if ev.get("SUMMARY"):
            details["title"] = db_clean(str(ev["SUMMARY"]))[:2000]
        description = str(ev.get("DESCRIPTION") or "")
        consent = consent_of(str(ev["X-NXHUB-CONSENT"])) if ev.get("X-NXHUB-CONSENT") else None
        for key, value in _LINE.findall(description):
            if key.lower().startswith("sample"):
                details["samples"] = [{"name": s.strip()} for s in value.split(",") if s.strip()]
            elif consent is None:
                consent = consent_of(value)
        motivation = _LINE.sub("", description).strip()
        if motivation:
            details["motivation"] = db_clean(motivation)[:5000]
        if ev.get("URL"):
            details["url"] = str(ev["URL"])
        return details, consent

    def _bookings(self, cal: icalendar.Calendar, lo: dt.datetime, hi: dt.datetime, now: dt.datetime) -> tuple[list[Booking], list[str], dt.datetime | None]:
        out, errors, next_end = [], [], None
        for ev in recurring_ical_events.of(cal).between(lo, hi):
            uid = str(ev.get("UID") or "")
            label = f"event {uid or '(no UID)'} {str(ev.get('SUMMARY') or '')[:60]!r}"
            try:
                if not uid:
                    raise ValueError("it has no UID")
                start = self._time(ev["DTSTART"].dt)
                if ev.get("DTEND") is not None:
                    end = self._time(ev["DTEND"].dt)
                elif ev.get("DURATION") is not None:
                    end = start + ev["DURATION"].dt
                else:  # RFC 5545: a date lasts one day, a date-time is an instant
                    end = start + (dt.timedelta(days=1) if not isinstance(ev["DTSTART"].dt, dt.datetime) else dt.timedelta(0))
                rec = ev.get("RECURRENCE-ID")  # set on every instance of a recurring event: its original time
                instance = self._time(rec.dt).strftime("/%Y%m%dT%H%M%SZ") if rec is not None else ""
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                errors.append(f"ical {self.label}: {label}: {exc}")
                continue
            if end <= start:
                errors.append(f"ical {self.label}: {label}: its end {end.isoformat()} is not after its start {start.isoformat()}")
                continue
            details, consent = self._details(ev)
            cancelled = str(ev.get("STATUS") or "").upper() == "CANCELLED"
            ext = f"{self.key}/{uid}{instance}"  # a moved single event or instance keeps its id: an edit
            common = dict(source="ical", external_id=ext, instrument_id=self.instrument_id, start=start, end=end,
                          person=self._person(ev), details=details, consent=consent, label=label)
            out.append(Booking(kind="reservation", cancelled=cancelled, **common))
            if self.sessions and not cancelled:
                if end <= now:
                    out.append(Booking(kind="usage", **common))
                else:
                    next_end = min(next_end or end, end)
        return out, errors, next_end

    def fetch(self, cursor: dict[str, Any], *, since: dt.datetime | None, full: bool, now: dt.datetime, known: Any = None) -> Fetched:
        due = cursor.get("next_end_at") and dt.datetime.fromisoformat(cursor["next_end_at"]) <= now
        conditional = not (full or since is not None or due or "sha256" not in cursor)
        content, validators, requests = self._read(cursor, conditional)
        if content is None:
            return Fetched(bookings=[], cursor=cursor, requests=requests, unchanged=True)
        digest = hashlib.sha256(content).hexdigest()
        new_cursor = {**cursor, **validators, "sha256": digest}
        if conditional and digest == cursor.get("sha256"):
            return Fetched(bookings=[], cursor=new_cursor, requests=requests, unchanged=True)
        try:
            cal = icalendar.Calendar.from_ical(content)
        except ValueError as exc:
            raise HarvestError(f"ical {self.label}: not a valid iCalendar file ({str(exc)[:200]}); nothing changed") from None
        lo, hi = since or now - self.lookback, now + self.ahead
        bookings, errors, next_end = self._bookings(cal, lo, hi, now)
        new_cursor["next_end_at"] = next_end.isoformat() if next_end else None
        return Fetched(bookings=bookings, cursor=new_cursor, window=(lo, hi), requests=requests, errors=errors)


def sources(instruments: list[Instrument]) -> list[IcalSource]:
    return [IcalSource(inst) for inst in instruments]
