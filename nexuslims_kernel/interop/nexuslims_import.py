"""``nxhub import nexuslims``: a NexusLIMS site's instruments and sessions into this hub, idempotently.

Instruments are matched by name (NexusLIMS's ``instrument_pid``), sessions by
``(source="nexuslims", external_id=session_identifier)``, so a second import
changes nothing and a later one picks up what NexusLIMS did since. Each
instrument and each session is its own transaction: one that cannot be mapped
is listed with the reason and nothing of it is written, the rest goes on.
``dry_run`` does the same work and rolls every transaction back.

Mapping: ``display_name``/``schema_name`` -> display name, ``location``,
``timezone``, ``filestore_path`` under ``data_root`` -> file-store root; a NEMO
``api_url`` becomes ``harvester_settings`` (url, tool_id) but the harvester is
left off until a token is set. A session keeps its START/END times (1.x local
times are read in the instrument's zone), its user (people are created by
username) and its status (NO_FILES_FOUND -> NO_FILES, BUILT_NOT_EXPORTED ->
COMPLETED, NO_RESERVATION -> NEEDS_REVIEW). A session that never ended while a
later one started on the same instrument was abandoned: it comes in CANCELLED
(it would otherwise block every later session as still running).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.db.directory import add_instrument, add_person, check_timezone, edit_instrument
from nexuslims_kernel.db.models import Instrument, InstrumentSession, Person, SessionEvent
from nexuslims_kernel.errors import NxhubError
from nexuslims_kernel.interop.nexuslims_source import (
    NexusLimsSource,
    SourceInstrument,
    SourceSession,
    parse_timestamp,
    read_source,
)
from nexuslims_kernel.sessions.rules import check_span
from nexuslims_kernel.sessions.states import SessionSource, SessionStatus

S = SessionStatus
SOURCE = SessionSource.NEXUSLIMS
ACTOR = "nxhub import nexuslims"
FINGERPRINT = "nexuslims_fingerprint"  # kept in sessions.reservation; the header ignores it
STATUS = "nexuslims_status"  # the status the import gave: a later import moves it only if the hub did not
STATUS_MAP = {
    "WAITING_FOR_END": S.WAITING_FOR_END, "TO_BE_BUILT": S.TO_BE_BUILT, "COMPLETED": S.COMPLETED,
    "BUILT_NOT_EXPORTED": S.COMPLETED, "ERROR": S.ERROR, "NO_FILES_FOUND": S.NO_FILES, "NO_CONSENT": S.NO_CONSENT,
    "NO_RESERVATION": S.NEEDS_REVIEW,
}
Progress = Callable[[str, int, int], None]


class Skip(Exception):
    """This item cannot be mapped; the message says why."""


class _DryRun(Exception):
    """Raised inside a transaction to roll it back after the work was done."""


@dataclasses.dataclass
class ImportReport:
    path: str
    layout: str
    version: str | None
    dry_run: bool
    instruments: Counter = dataclasses.field(default_factory=Counter)
    sessions: Counter = dataclasses.field(default_factory=Counter)
    records: Counter = dataclasses.field(default_factory=Counter)
    skipped: list[dict[str, str]] = dataclasses.field(default_factory=list)
    notes: list[dict[str, str]] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "layout": self.layout, "version": self.version, "dry_run": self.dry_run,
                "instruments": dict(self.instruments), "sessions": dict(self.sessions), "records": dict(self.records),
                "skipped": self.skipped, "notes": self.notes}


def _nemo_settings(src: SourceInstrument) -> dict[str, Any]:
    """NexusLIMS's per-tool NEMO URL (``.../api/tools/?id=3``) as our ``url`` (API root) and ``tool_id``."""
    if (src.harvester or "").lower() != "nemo" or not src.api_url:
        return {}
    parts = urlsplit(src.api_url)
    path = parts.path
    root = path[: path.index("/api/") + 5] if "/api/" in path else path.rsplit("/tools", 1)[0].rstrip("/") + "/"
    out: dict[str, Any] = {"url": f"{parts.scheme}://{parts.netloc}{root}"}
    tool = (parse_qs(parts.query).get("id") or [None])[0]
    if tool and tool.isdigit():
        out["tool_id"] = int(tool)
    return out


def _instrument_fields(src: SourceInstrument, data_root: Path | None) -> dict[str, Any]:
    try:
        timezone = check_timezone(src.timezone)
    except NxhubError as exc:
        raise Skip(str(exc)) from None
    fields: dict[str, Any] = {"display_name": src.display_name, "location": src.location, "timezone": timezone}
    if data_root is not None and src.filestore_path:
        rel = Path(src.filestore_path.replace("\\", "/").lstrip("/"))
        if ".." in rel.parts:
            raise Skip(f"filestore_path {src.filestore_path!r} climbs out of the data root")
        fields["filestore_root"] = str(data_root / rel)
    nemo = _nemo_settings(src)
    if nemo:
        fields["harvester_settings"] = nemo
    return fields


def _upsert_instrument(sess: Session, src: SourceInstrument, data_root: Path | None, report: ImportReport) -> str:
    fields = _instrument_fields(src, data_root)
    inst = sess.scalar(select(Instrument).where(Instrument.name == src.pid))
    if inst is None:
        add_instrument(sess, src.pid, **fields)
        action = "created"
    else:
        changed = {k: v for k, v in fields.items() if getattr(inst, k) != v}
        if not changed:
            return "unchanged"
        edit_instrument(sess, inst.id, **changed)
        action = "updated"
    if fields.get("harvester_settings"):
        report.notes.append({"item": f"instrument {src.pid}", "note": "NEMO url and tool id kept; the harvester stays "
                             f"off until a token is set: nxhub instruments edit {src.pid} --harvester nemo ..."})
    elif (src.harvester or "").lower() not in ("", "nemo"):
        report.notes.append({"item": f"instrument {src.pid}", "note": f"harvester {src.harvester!r} has no counterpart here"})
    if data_root is None and src.filestore_path:
        report.notes.append({"item": f"instrument {src.pid}", "note": f"filestore_path {src.filestore_path!r} not set "
                             "as its file store: give --data-root (NexusLIMS's NX_INSTRUMENT_DATA_PATH)"})
    return action


def _username(src: SourceSession) -> str | None:
    return sorted(src.users)[0] if src.users else None


def _person_id(sess: Session, src: SourceSession, report: ImportReport) -> int | None:
    username = _username(src)
    if username is None:
        return None
    if len(src.users) > 1:
        report.notes.append({"item": f"session {src.identifier}", "note": f"several users {sorted(src.users)}; kept {username}"})
    pid = sess.scalar(select(Person.id).where(Person.username == username))
    if pid is not None:
        return pid
    try:
        return add_person(sess, username).id
    except NxhubError as exc:
        report.notes.append({"item": f"session {src.identifier}", "note": f"imported without its user: {exc}"})
        return None


def _span(src: SourceSession, timezone: str) -> tuple[Any, Any]:
    if not src.starts:
        raise Skip("it has no START event")
    if len(src.starts) > 1 or len(src.ends) > 1:
        raise Skip(f"it has {len(src.starts)} START and {len(src.ends)} END events (expected one of each)")
    try:
        start = parse_timestamp(src.starts[0], timezone)
        end = parse_timestamp(src.ends[0], timezone) if src.ends else None
    except NxhubError as exc:
        raise Skip(str(exc)) from None
    if end is not None and end <= start:
        raise Skip(f"its END {end.isoformat()} is not after its START {start.isoformat()}")
    return start, end


def _status(src: SourceSession, end: Any, abandoned_by: Any) -> tuple[SessionStatus, str | None]:
    status = STATUS_MAP.get(src.status or "")
    if status is None:
        raise Skip(f"record_status {src.status!r} is not a NexusLIMS status")
    if end is None and abandoned_by is not None:
        return S.CANCELLED, f"never ended in NexusLIMS; a later session started {abandoned_by.isoformat()}"
    if end is None and status != S.WAITING_FOR_END:
        return S.NEEDS_REVIEW, f"NexusLIMS status {src.status} but no END event"
    if src.status == "NO_RESERVATION":
        return status, "NexusLIMS found no reservation for it"
    return status, None


def _upsert_session(sess: Session, src: SourceSession, inst: Instrument, abandoned_by: Any, report: ImportReport) -> str:
    start, end = _span(src, inst.timezone)
    status, reason = _status(src, end, abandoned_by)
    if status == S.TO_BE_BUILT and not inst.filestore_root:  # a worker would only fail on it: wait for the store
        status, reason = S.NEEDS_REVIEW, "queued in NexusLIMS; its instrument has no file store here yet (--data-root)"
    fingerprint = hashlib.sha256(json.dumps(
        [inst.id, start.isoformat(), end and end.isoformat(), _username(src), src.status, str(status)]).encode()).hexdigest()[:32]
    s = sess.scalar(select(InstrumentSession).where(InstrumentSession.source == SOURCE,
                                                    InstrumentSession.external_id == src.identifier))
    if s is not None and (s.reservation or {}).get(FINGERPRINT) == fingerprint:
        return "unchanged"
    if s is not None and s.status == S.BUILDING:
        raise Skip(f"session {s.id} is being built here; import again later")
    if status != S.CANCELLED:
        try:
            check_span(sess, inst.id, start, end, exclude_id=s.id if s is not None else None)
        except NxhubError as exc:
            raise Skip(str(exc)) from None
    person_id = _person_id(sess, src, report)
    action = "updated"
    if s is None:
        s = InstrumentSession(instrument_id=inst.id, source=SOURCE, external_id=src.identifier, reservation={})
        sess.add(s)
        action = "created"
    previous, ours = s.status, (s.reservation or {}).get(STATUS)
    s.start, s.end, s.person_id = start, end, person_id
    s.reservation = {**(s.reservation or {}), FINGERPRINT: fingerprint}
    if action == "created" or previous == ours:  # the hub has not moved it on since the last import
        s.status, s.status_reason = status, reason
        s.reservation = {**s.reservation, STATUS: str(status)}
    sess.flush()
    if s.status != previous:
        sess.add(SessionEvent(session_id=s.id, instrument_id=inst.id, kind="STATUS", at=end or start, actor=ACTOR,
                              from_status=str(previous) if previous else None, to_status=str(s.status),
                              payload={"reason": f"imported from NexusLIMS ({src.status})", "external_id": src.identifier}))
    return action


def _abandoned(sessions: list[SourceSession], timezones: dict[str, str]) -> dict[str, Any]:
    """identifier -> the start of the next session on its instrument, for sessions that never ended."""
    starts: dict[str, list[tuple[Any, str]]] = {}
    for src in sessions:
        if len(src.starts) == 1 and src.instrument_pid in timezones:
            try:
                starts.setdefault(src.instrument_pid, []).append((parse_timestamp(src.starts[0], timezones[src.instrument_pid]), src.identifier))
            except NxhubError:
                continue
    out: dict[str, Any] = {}
    ended = {s.identifier for s in sessions if s.ends}
    for items in starts.values():
        items.sort()
        for (_, ident), (nxt, _) in zip(items, items[1:], strict=False):
            if ident not in ended:
                out[ident] = nxt
    return out


def _each(db: Any, dry_run: bool, fn: Callable[[Session], str]) -> str:
    """``fn`` in its own write transaction; rolled back on a dry run (its answer is kept)."""
    result = ""
    try:
        with db.session(write=True) as sess:
            result = fn(sess)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return result


def import_nexuslims(db: Any, path: Path | str, *, data_root: Path | str | None = None, records: Path | str | None = None,
                     dry_run: bool = False, progress: Progress | None = None) -> ImportReport:
    """Import the NexusLIMS database at ``path`` (and the record XML under ``records``); the report counts
    created/updated/unchanged/skipped."""
    source: NexusLimsSource = read_source(path)
    report = ImportReport(str(path), source.layout, source.version, dry_run)
    root = Path(data_root).expanduser().resolve() if data_root else None
    total = len(source.instruments) + len(source.sessions)
    done = 0
    known: dict[str, str] = {}  # pid -> time zone, of instruments that are (or would be) here
    for src in source.instruments:
        try:
            action = _each(db, dry_run, lambda sess, src=src: _upsert_instrument(sess, src, root, report))
            known[src.pid] = src.timezone
        except (Skip, NxhubError) as exc:
            action = "skipped"
            report.skipped.append({"item": f"instrument {src.pid}", "reason": str(exc)})
        report.instruments[action] += 1
        done += 1
        if progress:
            progress("instruments", done, total)
    abandoned = _abandoned(source.sessions, known)
    order = sorted(source.sessions, key=lambda s: (s.instrument_pid, s.starts[:1], s.identifier))
    for src in order:
        try:
            if src.instrument_pid not in known:
                why = "is not in its instruments table" if src.instrument_pid not in {i.pid for i in source.instruments} \
                    else "was not imported (see above)"
                raise Skip(f"its instrument {src.instrument_pid!r} {why}")
            action = _each(db, dry_run, lambda sess, src=src: _session_in(sess, src, abandoned, report, dry_run))
        except (Skip, NxhubError) as exc:
            action = "skipped"
            report.skipped.append({"item": f"session {src.identifier}", "reason": str(exc)})
        report.sessions[action] += 1
        done += 1
        if progress:
            progress("sessions", done, total)
    if records is not None:
        from nexuslims_kernel.interop.nexuslims_records import import_records

        import_records(db, Path(records), each=lambda fn: _each(db, dry_run, fn), report=report, progress=progress)
    return report


def _session_in(sess: Session, src: SourceSession, abandoned: dict[str, Any], report: ImportReport, dry_run: bool) -> str:
    inst = sess.scalar(select(Instrument).where(Instrument.name == src.instrument_pid))
    if inst is None:  # only on a dry run: the instrument's transaction was rolled back
        if dry_run:
            return "created"
        raise Skip(f"its instrument {src.instrument_pid!r} is missing")
    return _upsert_session(sess, src, inst, abandoned.get(src.identifier), report)
