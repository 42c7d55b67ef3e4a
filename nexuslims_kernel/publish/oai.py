"""An OAI-PMH 2.0 repository of the public, unembargoed records (``/api/v1/oai``).

- verbs: Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord;
- formats: ``oai_dc`` (Dublin Core) and ``oai_datacite`` (the DataCite kernel-4
  ``<resource>`` built by :mod:`.datacite`, the same metadata a DOI gets);
- sets: ``instrument:<name>`` and ``group:<name>`` of the public records;
- datestamps (second granularity, UTC) are the later of the build and the last
  curation change, so ``from``/``until`` find curated records again;
- resumption tokens are stateless (the query and the last id, base64url JSON), so any
  API process can answer the next page; pages hold ``publish.oai_page_size`` records;
- deleted records are *transient*: a record that had a DOI and is no longer public
  is listed as a header with ``status="deleted"``; nothing else private ever appears.

Errors are OAI error codes in a 200 answer, as the protocol wants.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from nexuslims_kernel.config import Settings
from nexuslims_kernel.db.acl import public_clause
from nexuslims_kernel.db.models import Group, Instrument, Record, RecordCuration
from nexuslims_kernel.publish import datacite
from nexuslims_kernel.publish.markdown import to_text
from nexuslims_kernel.publish.merge import curated_json

OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
    "oai_datacite": ("http://schema.datacite.org/meta/kernel-4.5/metadata.xsd", "http://datacite.org/schema/kernel-4"),
}
LISTS = {"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}
VERBS: dict[str, tuple[set[str], set[str]]] = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "ListIdentifiers": LISTS,
    "ListRecords": LISTS,
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
}
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_date(value: str, name: str, end: bool) -> dt.datetime:
    """An OAI ``from``/``until`` (day or second granularity), as UTC; ``until`` of a day is inclusive."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
            return day + dt.timedelta(days=1, microseconds=-1) if end else day
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", value):
            stamp = dt.datetime.fromisoformat(value[:-1]).replace(tzinfo=dt.UTC)
            return stamp + dt.timedelta(microseconds=999_999) if end else stamp
    except ValueError:
        pass
    raise OaiError("badArgument", f"{name} must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, not {value[:40]!r}")


def _spec(kind: str, name: str) -> str:
    return f"{kind}:" + re.sub(r"[^A-Za-z0-9\-_.!~*'()]", "_", name)


class Repository:
    """One request's view of the repository (its base URL, host and settings)."""

    def __init__(self, sess: Session, settings: Settings, base_url: str, landing_base: str) -> None:
        self.sess, self.settings, self.base_url, self.landing_base = sess, settings, base_url, landing_base
        self._sets: dict[str, tuple[str, str, Any]] | None = None
        self.host = re.sub(r"[:/].*$", "", re.sub(r"^\w+://", "", settings.publish.landing_url or base_url)) or "localhost"

    # -- identifiers, datestamps, sets --

    def identifier(self, record_id: int) -> str:
        return f"oai:{self.host}:record/{record_id}"

    def record_id(self, identifier: str) -> int:
        m = re.fullmatch(rf"oai:{re.escape(self.host)}:record/([0-9]{{1,18}})", identifier)
        if m is None:
            raise OaiError("idDoesNotExist", f"{identifier[:200]!r} is not an identifier of this repository")
        return int(m.group(1))

    @staticmethod
    def datestamp():  # the later of build and last curation
        return case((and_(RecordCuration.updated_at.is_not(None), RecordCuration.updated_at > Record.updated_at),
                     RecordCuration.updated_at), else_=Record.updated_at)

    def _listed(self):
        """Public records, plus the deleted-marked: had a DOI, no longer public."""
        public = public_clause()
        stmt = (select(Record.id, Record.instrument_id, Record.group_id, self.datestamp().label("stamp"), public.label("public"))
                .outerjoin(RecordCuration, RecordCuration.record_id == Record.id)
                .where(or_(public, RecordCuration.doi_state == "findable")))
        return stmt

    def sets(self) -> dict[str, tuple[str, str, Any]]:
        """setSpec -> (name shown, column kind, value) of instruments and groups with public records."""
        if self._sets is None:
            self._sets = self._find_sets()
        return self._sets

    def _find_sets(self) -> dict[str, tuple[str, str, Any]]:
        public = select(Record.instrument_id, Record.group_id).where(public_clause()).subquery()
        out: dict[str, tuple[str, str, Any]] = {}
        for inst in self.sess.scalars(select(Instrument).where(Instrument.id.in_(select(public.c.instrument_id)))):
            out[_spec("instrument", inst.name)] = (f"Instrument {inst.display_name or inst.name}", "instrument", inst.id)
        for group in self.sess.scalars(select(Group).where(Group.id.in_(select(public.c.group_id)))):
            out[_spec("group", group.name)] = (f"Group {group.name}", "group", group.id)
        return out

    # -- the verbs --

    def identify(self, root: etree._Element) -> None:
        first = self.sess.scalar(select(func.min(self._listed().subquery().c.stamp)))
        el = etree.SubElement(root, "Identify")
        for tag, text in (("repositoryName", f"{self.settings.publish.publisher} records"), ("baseURL", self.base_url),
                          ("protocolVersion", "2.0"), ("adminEmail", self.settings.publish.admin_email),
                          ("earliestDatestamp", _stamp(first or EARLIEST)), ("deletedRecord", "transient"),
                          ("granularity", "YYYY-MM-DDThh:mm:ssZ")):
            etree.SubElement(el, tag).text = text

    def list_metadata_formats(self, root: etree._Element, args: Mapping[str, str]) -> None:
        if "identifier" in args:
            self._one(self.record_id(args["identifier"]))
        el = etree.SubElement(root, "ListMetadataFormats")
        for prefix, (schema, ns) in FORMATS.items():
            fmt = etree.SubElement(el, "metadataFormat")
            for tag, text in (("metadataPrefix", prefix), ("schema", schema), ("metadataNamespace", ns)):
                etree.SubElement(fmt, tag).text = text

    def list_sets(self, root: etree._Element, args: Mapping[str, str]) -> None:
        if "resumptionToken" in args:
            raise OaiError("badResumptionToken", "ListSets is answered in one page; this token is not one of ours")
        el = etree.SubElement(root, "ListSets")
        for spec, (name, _kind, _value) in sorted(self.sets().items()):
            s = etree.SubElement(el, "set")
            etree.SubElement(s, "setSpec").text = spec
            etree.SubElement(s, "setName").text = name

    def get_record(self, root: etree._Element, args: Mapping[str, str]) -> None:
        prefix = self._prefix(args["metadataPrefix"])
        row = self._one(self.record_id(args["identifier"]))
        self._record(etree.SubElement(root, "GetRecord"), row, prefix, with_metadata=True)

    def list_items(self, root: etree._Element, verb: str, args: Mapping[str, str]) -> None:
        query = _decode(args["resumptionToken"]) if "resumptionToken" in args else {
            "m": args["metadataPrefix"], "s": args.get("set"), "f": args.get("from"), "u": args.get("until"), "a": 0, "c": 0}
        prefix = self._prefix(query["m"])
        stmt = self._listed()
        if query.get("f") and query.get("u") and len(query["f"]) != len(query["u"]):
            raise OaiError("badArgument", "from and until must have the same granularity")
        if query.get("f"):
            stmt = stmt.where(self.datestamp() >= _parse_date(query["f"], "from", end=False))
        if query.get("u"):
            stmt = stmt.where(self.datestamp() <= _parse_date(query["u"], "until", end=True))
        if query.get("s"):
            found = self.sets().get(query["s"])
            if found is None:
                raise OaiError("noRecordsMatch", f"no public records in set {query['s'][:100]!r}")
            stmt = stmt.where((Record.instrument_id if found[1] == "instrument" else Record.group_id) == found[2])
        size = self.settings.publish.oai_page_size
        total = query.get("n")
        if total is None:
            total = len(self.sess.execute(stmt).all())
        rows = self.sess.execute(stmt.where(Record.id > int(query["a"])).order_by(Record.id).limit(size + 1)).all()
        if not rows:
            raise OaiError("noRecordsMatch", "no records match these arguments")
        el = etree.SubElement(root, verb)
        for row in rows[:size]:
            self._record(el, row, prefix, with_metadata=verb == "ListRecords")
        cursor = int(query["c"])
        if len(rows) > size or "resumptionToken" in args:
            tok = etree.SubElement(el, "resumptionToken", completeListSize=str(total), cursor=str(cursor))
            if len(rows) > size:
                tok.text = _encode({**query, "a": rows[size - 1].id, "c": cursor + size, "n": total})

    # -- pieces --

    def _prefix(self, prefix: str) -> str:
        if prefix not in FORMATS:
            raise OaiError("cannotDisseminateFormat", f"metadataPrefix {prefix[:40]!r} is not one of {', '.join(FORMATS)}")
        return prefix

    def _one(self, record_id: int) -> Any:
        row = self.sess.execute(self._listed().where(Record.id == record_id)).first()
        if row is None:  # private, embargoed or missing: all the same to a harvester
            raise OaiError("idDoesNotExist", f"no public record {self.identifier(record_id)}")
        return row

    def _record(self, parent: etree._Element, row: Any, prefix: str, *, with_metadata: bool) -> None:
        rec = etree.SubElement(parent, "record") if with_metadata else parent
        header = etree.SubElement(rec, "header")
        if not row.public:
            header.set("status", "deleted")
        etree.SubElement(header, "identifier").text = self.identifier(row.id)
        etree.SubElement(header, "datestamp").text = _stamp(row.stamp)
        sets = self.sets()
        for spec, (_name, kind, value) in sorted(sets.items()):
            if (kind == "instrument" and value == row.instrument_id) or (kind == "group" and value == row.group_id):
                etree.SubElement(header, "setSpec").text = spec
        if with_metadata and row.public:
            etree.SubElement(rec, "metadata").append(self._metadata(row.id, prefix))

    def _metadata(self, record_id: int, prefix: str) -> etree._Element:
        from nexuslims_kernel.records import load_record, to_json

        data = curated_json(self.sess, to_json(load_record(self.sess, record_id)))
        url = datacite.landing_url(self.settings, record_id, self.landing_base)
        attrs = datacite.metadata(data, self.settings, url, doi=data["curation"]["doi"])
        if prefix == "oai_datacite":
            return etree.fromstring(datacite.to_xml(attrs))
        dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
        dc.set(f"{{{XSI}}}schemaLocation", f"{OAI_DC} {FORMATS['oai_dc'][0]}")

        def add(tag: str, text: str | None) -> None:
            if text:
                etree.SubElement(dc, f"{{{DC}}}{tag}").text = text

        add("title", data["title"])
        for creator in attrs["creators"]:
            add("creator", creator["name"])
        for subject in attrs.get("subjects", []):
            add("subject", subject["subject"])
        add("description", to_text(data["curation"]["description"]) if data["curation"]["description"] else None)
        add("publisher", self.settings.publish.publisher)
        add("date", (data.get("start") or "")[:10])
        add("type", "Dataset")
        for fmt in attrs.get("formats", []):
            add("format", fmt)
        add("identifier", url)
        if data["curation"]["doi"]:
            add("identifier", f"https://doi.org/{data['curation']['doi']}")
        return dc


def _encode(query: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(query, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any]:
    try:
        query = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not (isinstance(query, dict) and isinstance(query.get("m"), str) and isinstance(query.get("a"), int)
                and isinstance(query.get("c"), int) and isinstance(query.get("n"), int)):
            raise ValueError
        return query
    except (ValueError, TypeError):
        raise OaiError("badResumptionToken", "the resumptionToken is not valid (expired or mistyped)") from None


def check_args(args: Mapping[str, Sequence[str]]) -> tuple[str, dict[str, str]]:
    """The verb and its single-valued arguments, or OaiError(badVerb | badArgument)."""
    verbs = args.get("verb", [])
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("badVerb", "verb is missing or repeated" if len(verbs) != 1 else f"{verbs[0][:40]!r} is not an OAI-PMH verb")
    verb = verbs[0]
    required, optional = VERBS[verb]
    flat: dict[str, str] = {}
    for name, values in args.items():
        if name == "verb":
            continue
        if name not in required | optional:
            raise OaiError("badArgument", f"{verb} takes no argument {name[:40]!r}")
        if len(values) != 1:
            raise OaiError("badArgument", f"{name} is repeated")
        flat[name] = values[0]
    if "resumptionToken" in flat:
        if len(flat) > 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument")
        return verb, flat
    missing = sorted(required - set(flat))
    if missing:
        raise OaiError("badArgument", f"{verb} needs {', '.join(missing)}")
    return verb, flat


def respond(sess: Session, settings: Settings, args: Mapping[str, Sequence[str]], base_url: str, landing_base: str,
            now: dt.datetime | None = None) -> bytes:
    """The OAI-PMH answer (XML bytes) to one request's arguments."""
    root = etree.Element("OAI-PMH", nsmap={None: OAI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    etree.SubElement(root, "responseDate").text = _stamp(now or dt.datetime.now(dt.UTC))
    request = etree.SubElement(root, "request")
    request.text = base_url
    repo = Repository(sess, settings, base_url, landing_base)
    try:
        verb, flat = check_args(args)
        request.set("verb", verb)
        for name, value in flat.items():
            request.set(name, value)
        if verb == "Identify":
            repo.identify(root)
        elif verb == "ListMetadataFormats":
            repo.list_metadata_formats(root, flat)
        elif verb == "ListSets":
            repo.list_sets(root, flat)
        elif verb == "GetRecord":
            repo.get_record(root, flat)
        else:
            repo.list_items(root, verb, flat)
    except OaiError as exc:
        if exc.code in ("badVerb", "badArgument"):  # the request element then carries no attributes
            request.attrib.clear()
        for child in root[2:]:
            root.remove(child)
        etree.SubElement(root, "error", code=exc.code).text = str(exc)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
