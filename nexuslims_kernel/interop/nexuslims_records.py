"""NexusLIMS record XML (Nexus Experiment documents) into records of the sessions ``nexuslims_import`` brought over.

Each file is checked against the configured Nexus Experiment XSD first; one that fails is
listed and skipped, the rest go on. A document's session is the imported session whose
``session_identifier`` is its ``<id>``, else the one on its instrument (``summary/instrument
@pid``) whose span holds its first acquisition time (or reservation start). Its activities
and datasets become the record's; a dataset's ``<location>`` is linked to the instrument's
indexed file by path (NexusLIMS writes it under the data root, so the instrument's folder is
stripped when the path starts with it); ``<meta>`` values are kept with their units. The
session's title, motivation and samples come from the document, its status becomes
COMPLETED. The document's sha256 is remembered on the session: importing the same file
again changes nothing. One transaction per document.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from nexuslims_kernel.db.models import IndexedFile, Instrument, InstrumentSession, SessionEvent
from nexuslims_kernel.errors import NxhubError
from nexuslims_kernel.extract.results import DatasetResult
from nexuslims_kernel.interop.nexuslims_source import parse_timestamp
from nexuslims_kernel.records import DatasetInput, validation_errors, write_record
from nexuslims_kernel.records.schema import NS
from nexuslims_kernel.sessions.states import SessionSource, SessionStatus

DIGEST = "nexuslims_record_sha256"  # kept in sessions.reservation; the header ignores it
Q = f"{{{NS}}}"


class RecordSkip(Exception):
    """This document cannot be imported; the message says why."""


@dataclasses.dataclass
class ParsedRecord:
    title: str
    ident: str | None
    instrument_pid: str
    start: str | None
    motivation: str | None
    samples: list[str]
    activities: list[list[dict[str, Any]]]


def _text(el: Any, tag: str) -> str | None:
    child = el.find(Q + tag)
    return child.text.strip() if child is not None and child.text and child.text.strip() else None


def parse_record(xml: bytes) -> ParsedRecord:
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    summary = root.find(Q + "summary")
    inst = summary.find(Q + "instrument") if summary is not None else None
    if inst is None or not inst.get("pid"):
        raise RecordSkip("its summary names no instrument pid")
    activities = []
    for act in root.findall(Q + "acquisitionActivity"):
        start = _text(act, "startTime")
        items = []
        for ds in act.findall(Q + "dataset"):
            meta: dict[str, Any] = {}
            for m in ds.findall(Q + "meta"):
                if m.get("name") and m.text is not None:
                    meta[m.get("name")] = {"value": m.text.strip(), "unit": m.get("unit")} if m.get("unit") else m.text.strip()
            items.append({"name": _text(ds, "name"), "type": ds.get("type") or "Unknown", "location": _text(ds, "location"),
                          "format": _text(ds, "format"), "start": start, "meta": meta})
        activities.append(items)
    first = next((a[0]["start"] for a in activities if a and a[0]["start"]), None)
    return ParsedRecord(
        title=_text(root, "title") or "", ident=_text(root, "id"), instrument_pid=inst.get("pid"),
        start=first or (_text(summary, "reservationStart") if summary is not None else None),
        motivation=_text(summary, "motivation") if summary is not None else None,
        samples=[n for s in root.findall(Q + "sample") if (n := _text(s, "name"))], activities=activities)


def _session_for(sess: Session, rec: ParsedRecord, inst: Instrument) -> InstrumentSession:
    base = select(InstrumentSession).where(InstrumentSession.source == SessionSource.NEXUSLIMS,
                                           InstrumentSession.instrument_id == inst.id)
    if rec.ident:
        found = sess.scalar(base.where(InstrumentSession.external_id == rec.ident))
        if found is not None:
            return found
    if rec.start is None:
        raise RecordSkip("it has no acquisition or reservation time to find its session by")
    try:
        when = parse_timestamp(rec.start, inst.timezone)
    except NxhubError as exc:
        raise RecordSkip(str(exc)) from None
    found = sess.scalar(base.where(InstrumentSession.start <= when, InstrumentSession.end >= when)
                        .order_by(InstrumentSession.start.desc()).limit(1))
    if found is None:
        raise RecordSkip(f"no imported session on {inst.name} spans {when.isoformat()}")
    return found


def _relpath(sess: Session, inst: Instrument, location: str | None) -> tuple[str, int | None]:
    """The dataset's path under the instrument's store and its indexed file, trying with and without the store's folder."""
    if not location:
        raise RecordSkip("a dataset has no location")
    parts = [p for p in PurePosixPath(unquote(location).replace("\\", "/")).parts if p not in ("/", "", ".")]
    if ".." in parts or not parts:
        raise RecordSkip(f"dataset location {location!r} is not a path inside the data root")
    candidates = ["/".join(parts)]
    if len(parts) > 1:
        candidates.append("/".join(parts[1:]))  # NexusLIMS: <filestore_path>/<...> under the data root
    store_name = Path(inst.filestore_root).name if inst.filestore_root else None
    for rel in candidates:
        fid = sess.scalar(select(IndexedFile.id).where(IndexedFile.instrument_id == inst.id, IndexedFile.relpath == rel,
                                                       IndexedFile.deleted.is_(False)))
        if fid is not None:
            return rel, fid
    if store_name and len(parts) > 1 and parts[0] == store_name:
        return candidates[1], None
    return candidates[0], None


def _inputs(sess: Session, inst: Instrument, rec: ParsedRecord) -> list[list[DatasetInput]]:
    out, seen = [], Counter()
    for items in rec.activities:
        group = []
        for ds in items:
            rel, file_id = _relpath(sess, inst, ds["location"])
            seen[rel] += 1  # several signals of one file: one dataset each, as the builder makes them
            meta = dict(ds["meta"])
            if ds["start"]:
                meta.update(acquisition_time=ds["start"], acquisition_time_source="NexusLIMS record")
            result = DatasetResult(index=seen[rel] - 1, name=ds["name"] or PurePosixPath(rel).name, dataset_type=ds["type"],
                                   metadata=meta, raw_metadata={"NexusLIMS": dict(ds["meta"])})
            group.append(DatasetInput(relpath=rel, file_id=file_id, format=ds["format"], result=result))
        out.append(group)
    return out


def _import_one(sess: Session, xml: bytes, digest: str, previews_root: Path | None) -> str:
    rec = parse_record(xml)
    inst = sess.scalar(select(Instrument).where(Instrument.name == rec.instrument_pid))
    if inst is None:
        raise RecordSkip(f"its instrument {rec.instrument_pid!r} is not here (import the database first)")
    s = _session_for(sess, rec, inst)
    if (s.reservation or {}).get(DIGEST) == digest:
        return "unchanged"
    if s.status == SessionStatus.BUILDING:
        raise RecordSkip(f"session {s.id} is being built here; import again later")
    s.reservation = {**(s.reservation or {}), "title": rec.title, "motivation": rec.motivation, "samples": rec.samples,
                     DIGEST: digest}
    sess.flush()
    write_record(sess, s, _inputs(sess, inst, rec), [], previews_root=previews_root)
    previous = s.status
    s.status, s.status_reason = SessionStatus.COMPLETED, "record imported from NexusLIMS XML"
    sess.add(SessionEvent(session_id=s.id, instrument_id=inst.id, kind="STATUS", at=s.end or s.start,
                          actor="nxhub import nexuslims", from_status=str(previous), to_status=str(s.status),
                          payload={"reason": "record imported from NexusLIMS XML", "sha256": digest}))
    sess.flush()
    return "imported"


def import_records(db: Any, folder: Path, *, each: Callable[[Callable[[Session], str]], str], report: Any,
                   previews_root: Path | None = None, progress: Callable[[str, int, int], None] | None = None) -> None:
    """Every ``*.xml`` under ``folder`` (sorted), each validated, then imported in its own transaction via ``each``."""
    from nexuslims_kernel.records.schema import xsd_path

    xsd_path()  # no XSD configured: one line now, not one per file
    if not Path(folder).is_dir():
        raise NxhubError(f"--records {folder} is not a folder of NexusLIMS record XML files")
    files = sorted(p for p in Path(folder).rglob("*.xml") if p.is_file())
    for n, path in enumerate(files, start=1):
        item = f"record {path.relative_to(folder)}"
        try:
            xml = path.read_bytes()
            errors = validation_errors(xml)
            if errors:
                raise RecordSkip(f"not valid against the Nexus Experiment XSD: {errors[0]}")
            digest = hashlib.sha256(xml).hexdigest()
            action = each(lambda sess, xml=xml, digest=digest: _import_one(sess, xml, digest, previews_root))
        except etree.XMLSyntaxError as exc:
            action = "skipped"
            report.skipped.append({"item": item, "reason": f"not well-formed XML: {exc}"})
        except (RecordSkip, NxhubError, OSError) as exc:
            action = "skipped"
            report.skipped.append({"item": item, "reason": str(exc)})
        report.records[action] += 1
        if progress:
            progress("records", n, len(files))
