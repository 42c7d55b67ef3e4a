"""Nexus Experiment XML (NexusLIMS's record format), valid against nexus-experiment.xsd.

Built with lxml from the record's JSON form, so values from files are always
text or attribute values that lxml escapes; characters XML 1.0 forbids are
dropped. Element order follows the schema's sequences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import IO, Any
from urllib.parse import quote, urlsplit

from lxml import etree

from nexuslims_kernel.records.exporters.spec import ExporterSpec, as_json
from nexuslims_kernel.records.params import display_value
from nexuslims_kernel.records.schema import NS, XSI, element_symbols
from nexuslims_kernel.records.text import safe_name, xml_text

NSMAP = {"nx": NS, "xsi": XSI}
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
DATASET_TYPES = frozenset({"Image", "Spectrum", "SpectrumImage", "Diffraction", "Notes", "Misc", "Unknown"})


def _sub(parent: etree._Element, tag: str, text: Any = None, **attrs: Any) -> etree._Element:
    el = etree.SubElement(parent, f"{{{NS}}}{tag}")
    for key, value in attrs.items():
        if value is not None:
            el.set(key, xml_text(value))
    if text is not None:
        el.text = xml_text(text)
    return el


def _uri(value: Any) -> str | None:
    """``value`` as a valid xs:anyURI if it is an absolute http(s) URL, else None.

    Characters a URI may not hold (``<``, quotes, non-ASCII, stray ``%``) are
    percent-encoded, so a reservation link can never break the document.
    """
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return None
    try:
        parsed = urlsplit(value)
    except ValueError:
        return None
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return None
    return quote(_STRAY_PERCENT.sub("%25", value), safe=":/?#[]@!$&'()*+,;=%~")


def _params(parent: etree._Element, tag: str, params: Mapping[str, Any]) -> None:
    for name, value in sorted(params.items()):  # sorted: JSONB does not keep key order
        text, unit = display_value(value)
        warning = "true" if isinstance(value, Mapping) and value.get("warning") else None
        _sub(parent, tag, text, name=name, unit=unit, warning=warning)


def _summary(root: etree._Element, data: Mapping[str, Any], header: Mapping[str, Any]) -> None:
    res = header.get("reservation") or {}
    summary = _sub(root, "summary", ref=_uri(res.get("ref")))
    for who in header.get("experimenters") or []:
        _sub(summary, "experimenter", who.get("name") or who.get("username"))
    for who in header.get("collaborators") or []:
        _sub(summary, "collaborator", who.get("name") or who.get("username"))
    inst = data["instrument"]
    _sub(summary, "instrument", inst.get("display_name") or inst["name"], pid=inst["name"])
    start, end = res.get("start") or data.get("start"), res.get("end") or data.get("end")
    if start:
        _sub(summary, "reservationStart", start)
    if end:
        _sub(summary, "reservationEnd", end)
    if header.get("motivation"):
        _sub(summary, "motivation", header["motivation"])


def _samples(root: etree._Element, samples: list[Mapping[str, Any]]) -> None:
    symbols = element_symbols()
    for sample in samples:
        el = _sub(root, "sample", id=sample.get("id"))
        if sample.get("name"):
            _sub(el, "name", sample["name"])
        if sample.get("description"):
            _sub(el, "description", sample["description"])
        elements = [e for e in dict.fromkeys(sample.get("elements") or []) if e in symbols]
        if elements:
            box = _sub(el, "elements")
            for symbol in elements:
                _sub(box, symbol)


def _project(root: etree._Element, project: Mapping[str, Any] | None) -> None:
    if not project:
        return
    el = _sub(root, "project")
    _sub(el, "name", project.get("title") or project.get("name"))
    if project.get("group"):
        _sub(el, "group", project["group"])
    _sub(el, "project_id", project.get("name"))
    ref = _uri(project.get("ref"))
    if ref:
        _sub(el, "ref", ref)


def _dataset(parent: etree._Element, ds: Mapping[str, Any]) -> None:
    dtype = ds.get("dataset_type") if ds.get("dataset_type") in DATASET_TYPES else "Unknown"
    el = _sub(parent, "dataset", type=dtype, role="Experimental")
    _sub(el, "name", ds.get("name") or ds["relpath"])
    _sub(el, "location", safe_name(ds["relpath"]))  # percent-encoded controls: unquote() gives the file's name back
    if ds.get("format"):
        _sub(el, "format", ds["format"])
    if ds.get("error"):
        _sub(el, "description", f"Error: {ds['error']}")
    for warning in ds.get("warnings") or []:
        _sub(el, "description", f"Warning: {warning}")
    if ds.get("preview"):
        _sub(el, "preview", ds["preview"])
    _params(el, "meta", ds.get("unique_metadata") or {})


def _notes(parent: etree._Element, source: str, paragraphs: list[str]) -> None:
    notes = _sub(parent, "notes", source=source)
    entry = _sub(notes, "entry")
    entry.set(f"{{{XSI}}}type", "nx:TextEntry")
    for text in paragraphs:
        _sub(entry, "p", text)


def build_tree(data: Mapping[str, Any]) -> etree._Element:
    """The ``<Experiment>`` element of a record given in its JSON form."""
    header = data.get("header") or {}
    root = etree.Element(f"{{{NS}}}Experiment", nsmap=NSMAP, pid=xml_text(data["pid"]))
    _sub(root, "title", data.get("title") or header.get("title") or "")
    _sub(root, "id", data["id"])
    _summary(root, data, header)
    samples = header.get("samples") or []
    _samples(root, samples)
    _project(root, header.get("project"))
    sample_id = samples[0].get("id") if len(samples) == 1 else None
    for act in data.get("activities") or []:
        el = _sub(root, "acquisitionActivity", seqno=act["seq"])
        if act.get("start"):
            _sub(el, "startTime", act["start"])
        if sample_id:
            _sub(el, "sampleID", sample_id)
        setup = _sub(el, "setup")
        _params(setup, "param", act.get("setup") or {})
        for ds in act.get("datasets") or []:
            _dataset(el, ds)
    if header.get("note"):
        _notes(root, "session", [header["note"]])
    if data.get("warnings"):
        _notes(root, "build", list(data["warnings"]))
    return root


def to_xml(record: Any) -> bytes:
    """Nexus Experiment XML of a record (ORM object or its JSON form), UTF-8 with a declaration."""
    return etree.tostring(build_tree(as_json(record)), xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write(record: Any, fileobj: IO[bytes], **_options: Any) -> None:
    fileobj.write(to_xml(record))


SPEC = ExporterSpec(
    name="xml",
    description="Nexus Experiment XML (NexusLIMS schema), valid against nexus-experiment.xsd",
    media_type="application/xml",
    extension="xml",
    write=write,
)
