"""NEMO (NIST's lab-logistics system): usage events become sessions, reservations fill headers.

One :class:`NemoSource` per NEMO server (instruments naming the same ``url``
share it), each in its own time zone. Per instrument, ``harvester_settings``:

``url``           the API root, e.g. ``https://nemo.example.org/api/``
``tool_id``       the NEMO tool that is this instrument (or ``tool``: its name)
``token_env`` / ``token_file`` / ``token``  the API token (env or file keep it out of the database)
``timezone``      the server's zone for times without an offset (default: the instrument's)
``lookback_days`` how far back a complete pass reads (default 30)
``questions``     question names, e.g. ``{"title": "experiment_title", "consent": "data_consent"}``

A quick pass asks for usage events that ended since the last one (minus 10
minutes of overlap) and current reservations: with nothing new, one request
per endpoint. A complete pass (first run, ``--since``, or hourly) lists the
whole window, so edited events are updated and deleted ones cancelled (after
asking NEMO once more about each). Only lookups NEMO supports are used
(``__in``, ``__gte``): it ignores unknown filters and would return every row.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from nexuslims_kernel.calendars.base import Booking, Fetched, HarvestError, PersonRef, ProjectRef, as_utc
from nexuslims_kernel.calendars.questions import header_fields, parse_answers
from nexuslims_kernel.db.models import Instrument
from nexuslims_kernel.errors import ConfigError

OVERLAP = dt.timedelta(minutes=10)
RESERVATIONS_BACK = dt.timedelta(days=1)
CHUNK = 200


def _token(settings: dict[str, Any], where: str) -> str:
    if settings.get("token_env"):
        value = os.environ.get(str(settings["token_env"]), "")
        if not value:
            raise ConfigError(f"{where}: environment variable {settings['token_env']} (token_env) is not set")
        return value.strip()
    if settings.get("token_file"):
        try:
            return Path(str(settings["token_file"])).expanduser().read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{where}: token_file {settings['token_file']} cannot be read: {exc.strerror}") from None
    if settings.get("token"):
        return str(settings["token"]).strip()
    raise ConfigError(f"{where}: no NEMO token; set token_env (recommended), token_file or token in its harvester settings")


def server_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}{parts.path.rstrip('/')}"


class NemoSource:
    kind = "nemo"

    def __init__(self, url: str, instruments: list[Instrument], *, client: httpx.Client | None = None) -> None:
        first = instruments[0].harvester_settings or {}
        self.url = url if url.endswith("/") else url + "/"
        self.key, self.label = server_key(self.url), self.url
        where = f"nemo {self.label} (instrument {instruments[0].name})"
        tz_name = first.get("timezone") or instruments[0].timezone or "UTC"
        try:
            self.zone = zoneinfo.ZoneInfo(tz_name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{where}: unknown time zone {tz_name!r}") from None
        self.lookback = dt.timedelta(days=float(first.get("lookback_days", 30)))
        self.page_size = int(first.get("page_size", 1000))
        self.questions = first.get("questions") or {}
        self.instrument_ids = [i.id for i in instruments]
        self._tools: dict[int, int] = {}  # NEMO tool id -> instrument id
        self._tool_names: dict[str, int] = {}
        for inst in instruments:
            cfg = inst.harvester_settings or {}
            if cfg.get("tool_id") is not None:
                self._tools[int(cfg["tool_id"])] = inst.id
            elif cfg.get("tool"):
                self._tool_names[str(cfg["tool"])] = inst.id
            else:
                raise ConfigError(f"nemo {self.label}: instrument {inst.name} names no tool_id (or tool) in its harvester settings")
        self.requests = 0
        self.client = client or httpx.Client(
            headers={"Authorization": f"Token {_token(first, where)}", "Accept": "application/json"},
            timeout=float(first.get("timeout_s", 30)), follow_redirects=False)

    def close(self) -> None:
        self.client.close()

    # -- HTTP ---------------------------------------------------------------------------------
    def _get(self, endpoint: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row of ``endpoint`` for ``params``, page by page (NEMO pages only when asked)."""
        url: str | None = self.url + endpoint + "/"
        query: dict[str, Any] | None = {**params, "page_size": self.page_size}
        rows: list[dict[str, Any]] = []
        while url:
            try:
                self.requests += 1
                resp = self.client.get(url, params=query)
            except httpx.HTTPError as exc:
                raise HarvestError(f"nemo {self.label}: {endpoint}: cannot reach the server ({type(exc).__name__}: {exc}); "
                                   "nothing changed, the next harvest tries again") from None
            if resp.status_code in (401, 403):
                raise HarvestError(f"nemo {self.label}: {endpoint}: the token was refused ({resp.status_code}); "
                                   "it needs NEMO's 'use_billing_api' permission")
            if resp.status_code != 200:
                raise HarvestError(f"nemo {self.label}: {endpoint}: answered HTTP {resp.status_code}: {resp.text[:200]!r}")
            try:
                body = resp.json()
            except ValueError:
                raise HarvestError(f"nemo {self.label}: {endpoint}: the answer is not JSON ({resp.text[:120]!r})") from None
            if isinstance(body, list):
                return rows + body
            rows.extend(body.get("results") or [])
            url, query = body.get("next"), None
            if url and urlsplit(url).netloc != urlsplit(self.url).netloc:
                raise HarvestError(f"nemo {self.label}: {endpoint}: 'next' points to another server ({urlsplit(url).netloc})")
        return rows

    def _when(self, value: dt.datetime) -> str:
        return value.astimezone(self.zone).isoformat()

    def _resolve_tools(self, cursor: dict[str, Any]) -> None:
        known = cursor.get("tools", {})
        missing = [n for n in self._tool_names if n not in known]
        if missing:
            for row in self._get("tools", {"name__in": ",".join(missing)}):
                known[row["name"]] = row["id"]
        for name, inst_id in self._tool_names.items():
            if name not in known:
                raise HarvestError(f"nemo {self.label}: no tool named {name!r}")
            self._tools[int(known[name])] = inst_id
        if self._tool_names:
            cursor["tools"] = {n: known[n] for n in self._tool_names}

    def _by_ids(self, endpoint: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        ids = sorted(set(ids))
        out: dict[int, dict[str, Any]] = {}
        for i in range(0, len(ids), CHUNK):
            for row in self._get(endpoint, {"id__in": ",".join(map(str, ids[i:i + CHUNK]))}):
                out[row["id"]] = row
        return out

    # -- rows -> bookings --------------------------------------------------------------------
    def _time(self, value: str) -> dt.datetime:
        return as_utc(dt.datetime.fromisoformat(value), self.zone)

    def _person(self, user_id: int | None, users: dict[int, dict[str, Any]]) -> PersonRef | None:
        if user_id is None:
            return None
        row = users.get(user_id, {})
        name = " ".join(x for x in (row.get("first_name"), row.get("last_name")) if x) or None
        return PersonRef(username=row.get("username"), email=row.get("email") or None, display_name=name,
                         external_key=f"nemo:{self.key}", external_id=user_id)

    def _project(self, project_id: int | None, projects: dict[int, dict[str, Any]]) -> ProjectRef | None:
        if project_id is None:
            return None
        row = projects.get(project_id, {})  # not fetched again once known: matched by its NEMO id
        return ProjectRef(name=row.get("name", ""), title=row.get("application_identifier"), external_key=f"nemo:{self.key}",
                          external_id=project_id)

    def _booking(self, kind: str, row: dict[str, Any], users: dict, projects: dict) -> Booking:
        label = f"{'usage event' if kind == 'usage' else 'reservation'} {row.get('id')}"
        try:
            if kind == "usage":
                answers = {**parse_answers(row.get("pre_run_data")), **parse_answers(row.get("run_data"))}
            else:
                answers = parse_answers(row.get("question_data"))
            details, consent = header_fields(answers, self.questions)
            if kind == "reservation" and not details.get("title") and row.get("title"):
                details["title"] = str(row["title"])
            start, end = self._time(row["start"]), self._time(row["end"]) if row.get("end") else None
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"nemo {self.label}: {label}: {exc}") from None
        return Booking(
            kind=kind, source="nemo", external_id=f"{self.key}/{'usage' if kind == 'usage' else 'reservations'}/{row['id']}",
            instrument_id=self._tools[row["tool"]], start=start, end=end, person=self._person(row.get("user"), users),
            project=self._project(row.get("project"), projects), details=details, consent=consent,
            cancelled=bool(row.get("cancelled")), label=label)

    def fetch(self, cursor: dict[str, Any], *, since: dt.datetime | None, full: bool, now: dt.datetime,
              known: dict[str, set[int]] | None = None) -> Fetched:
        cursor = dict(cursor)
        full = full or since is not None or "usage_end_at" not in cursor
        start = self.requests
        self._resolve_tools(cursor)
        tools = ",".join(str(t) for t in sorted(self._tools))
        window_lo = since or now - self.lookback
        usage_lo = window_lo if full else dt.datetime.fromisoformat(cursor["usage_end_at"]) - OVERLAP
        res_lo = window_lo if full else now - RESERVATIONS_BACK
        # the tool test guards against a NEMO that ignores a filter (it answers every row then)
        usage = [r for r in self._get("usage_events", {"tool_id__in": tools, "end__gte": self._when(usage_lo)})
                 if r.get("end") and r.get("tool") in self._tools]
        reservations = [r for r in self._get("reservations", {"tool_id__in": tools, "end__gte": self._when(res_lo)})
                        if r.get("tool") in self._tools]
        rows = usage + reservations
        known = known or {}
        user_ids = {r["user"] for r in rows if r.get("user") is not None}
        project_ids = {r["project"] for r in rows if r.get("project") is not None}
        users = self._by_ids("users", user_ids if full else user_ids - known.get("users", set()))
        projects = self._by_ids("projects", project_ids if full else project_ids - known.get("projects", set()))
        bookings, errors = [], []
        for kind, batch in (("reservation", reservations), ("usage", usage)):
            for row in batch:
                try:
                    bookings.append(self._booking(kind, row, users, projects))
                except ValueError as exc:
                    errors.append(str(exc))
        ends = [b.end for b in bookings if b.kind == "usage" and b.end is not None]
        last = max(ends, default=None)
        old = dt.datetime.fromisoformat(cursor["usage_end_at"]) if "usage_end_at" in cursor else None
        cursor["usage_end_at"] = max(x for x in (last, old, usage_lo) if x is not None).isoformat()
        return Fetched(bookings=bookings, cursor=cursor, window=(window_lo, now + dt.timedelta(days=3650)) if full else None,
                       requests=self.requests - start, errors=errors, confirm_missing=self._still_there if full else None)

    def _still_there(self, external_ids: list[str]) -> set[str]:
        out: set[str] = set()
        for endpoint, tag in (("usage_events", "usage"), ("reservations", "reservations")):
            prefix = f"{self.key}/{tag}/"
            ids = [int(x[len(prefix):]) for x in external_ids if x.startswith(prefix)]
            for rid, row in self._by_ids(endpoint, ids).items():
                if tag == "reservations" or row.get("end"):
                    out.add(f"{prefix}{rid}")
        return out


def sources(instruments: list[Instrument]) -> list[NemoSource]:
    """One source per NEMO server among ``instruments``."""
    by_server: dict[str, list[Instrument]] = {}
    for inst in instruments:
        url = str((inst.harvester_settings or {}).get("url") or "")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"instrument {inst.name}: harvester nemo needs 'url' (the API root, e.g. https://nemo.example.org/api/)")
        by_server.setdefault(server_key(url), []).append(inst)
    return [NemoSource(group[0].harvester_settings["url"], group) for group in by_server.values()]
