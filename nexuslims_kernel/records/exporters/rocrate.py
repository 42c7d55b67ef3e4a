"""RO-Crate 1.1 zip of a record: ``ro-crate-metadata.json``, the record as JSON and XML,
its previews and (optionally) its data files.

The zip is written straight to the given file object (which need not be
seekable: entries then carry data descriptors), each file copied in chunks,
so a large record is never staged in a temp file or held in memory. The root
Dataset's ``hasPart`` lists exactly the files present in the zip; datasets
whose files are not included are still described (``#dataset-<id>``).
Paths are confined: a path with ``..`` or a symlink leading out of its root is
left out.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import IO, Any

from nexuslims_kernel.extract.emglossary import EMG_BASE, glossary_properties
from nexuslims_kernel.records.exporters.spec import ExporterSpec, as_json
from nexuslims_kernel.records.exporters.xml import to_xml

CONTEXT = "https://w3id.org/ro/crate/1.1/context"
CONFORMS = "https://w3id.org/ro/crate/1.1"
METADATA = "ro-crate-metadata.json"
CHUNK = 1 << 20
MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "json": "application/json",
    "xml": "application/xml",
}


def _safe_relpath(relpath: str | None) -> PurePosixPath | None:
    """``relpath`` as a clean relative path, or None if it is absolute or climbs out."""
    if not relpath:
        return None
    parts = [p for p in PurePosixPath(str(relpath).replace("\\", "/")).parts if p not in ("", ".")]
    if not parts or parts[0] == "/" or ".." in parts:
        return None
    return PurePosixPath(*parts)


def _inside(root: Path | None, rel: PurePosixPath | None) -> Path | None:
    """The regular file ``root/rel`` if it exists and really lies under ``root`` (symlinks resolved)."""
    if root is None or rel is None:
        return None
    base = Path(root).resolve()
    path = (base / rel).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path


def _zinfo(name: str, when: dt.datetime, compress: int) -> zipfile.ZipInfo:
    stamp = max(when, dt.datetime(1980, 1, 2, tzinfo=dt.UTC))
    info = zipfile.ZipInfo(name, date_time=stamp.timetuple()[:6])
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def _copy(zf: zipfile.ZipFile, src: Path, arcname: str) -> int:
    stat = src.stat()
    info = _zinfo(arcname, dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC), zipfile.ZIP_STORED)
    with src.open("rb") as fin, zf.open(info, "w", force_zip64=stat.st_size > 0x7FFFFFFF) as fout:
        shutil.copyfileobj(fin, fout, CHUNK)
    return stat.st_size


def _ts(value: str | None) -> dt.datetime:
    return dt.datetime.fromisoformat(value) if value else dt.datetime.now(dt.UTC)


def _people(header: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for n, who in enumerate(header.get("experimenters") or [], start=1):
        ident = f"#person-{who['username']}" if who.get("username") else f"#person-{n}"
        out.append({"@id": ident, "@type": "Person", "name": who.get("name") or who.get("username")})
    return out


class Crate:
    """The zip being written plus the JSON-LD graph describing what went into it.

    ``root_dir`` is the zip folder holding the crate (``""`` for a plain RO-Crate,
    the archive's folder for an .eln); ``part_dir`` prefixes every file's ``@id``
    (an .eln puts a record's files in one experiment folder).
    """

    def __init__(self, zf: zipfile.ZipFile, root_dir: str = "", part_dir: str = "") -> None:
        self.zf = zf
        self.root_dir = root_dir
        self.part_dir = part_dir
        self.graph: list[dict[str, Any]] = []
        self.has_part: list[dict[str, str]] = []
        self.ids: set[str] = set()

    def ident(self, relname: str) -> str:
        return f"{self.part_dir}{relname}"

    def arcname(self, ident: str) -> str:
        return f"{self.root_dir}{ident}"

    def describe(self, entity: dict[str, Any]) -> None:
        if entity["@id"] not in self.ids:
            self.ids.add(entity["@id"])
            self.graph.append(entity)

    def add_bytes(self, name: str, body: bytes, media: str, when: dt.datetime) -> None:
        ident = self.ident(name)
        self.zf.writestr(_zinfo(self.arcname(ident), when, zipfile.ZIP_DEFLATED), body)
        self.has_part.append({"@id": ident})
        self.describe({"@id": ident, "@type": "File", "name": name, "encodingFormat": media, "contentSize": str(len(body))})

    def add_file(self, src: Path, relname: str, **props: Any) -> str:
        """Copy ``src`` into the zip once (streamed) and describe it; returns its @id."""
        ident = self.ident(relname)
        if ident not in self.ids:
            size = _copy(self.zf, src, self.arcname(ident))
            self.has_part.append({"@id": ident})
            self.describe({"@id": ident, "@type": "File", "name": src.name, "contentSize": str(size), **props})
        return ident

    def write_metadata(self, graph: list[dict[str, Any]], when: dt.datetime) -> None:
        body = json.dumps({"@context": CONTEXT, "@graph": graph}, ensure_ascii=False, indent=2).encode()
        self.zf.writestr(_zinfo(self.arcname(METADATA), when, zipfile.ZIP_DEFLATED), body)


def _dataset_entity(crate: Crate, ds: Mapping[str, Any], previews_root: Path, store_root: Path | None) -> str:
    """Describe one dataset (copying its file, companions and preview when available); returns its @id."""
    entity: dict[str, Any] = {
        "@type": "File",
        "name": ds.get("name") or ds.get("relpath"),
        "identifier": ds.get("relpath"),
        "encodingFormat": ds.get("format") or "application/octet-stream",
        "additionalType": ds.get("dataset_type"),
    }
    if ds.get("file_size") is not None:
        entity["contentSize"] = str(ds["file_size"])
    if ds.get("sha256"):  # fixity recorded when the record was built (schema.org/sha256)
        entity["sha256"] = ds["sha256"]
    if ds.get("acquired_at"):
        entity["dateCreated"] = ds["acquired_at"]
    rel = _safe_relpath(ds.get("relpath"))
    src = _inside(store_root, rel)
    entity["@id"] = crate.ident(f"data/{rel}") if src is not None else f"#dataset-{ds['id']}"
    measured = _glossary_values(crate, ds)
    if measured:
        entity["variableMeasured"] = measured
    if src is not None:
        if entity["@id"] not in crate.ids:
            size = _copy(crate.zf, src, crate.arcname(entity["@id"]))
            crate.has_part.append({"@id": entity["@id"]})
            entity["contentSize"] = str(size)
        for comp in ds.get("companions") or []:
            crel = _safe_relpath(comp)
            csrc = _inside(store_root, crel)
            if csrc is not None:
                crate.add_file(csrc, f"data/{crel}")
    prel = _safe_relpath(ds.get("preview"))
    psrc = _inside(previews_root, prel)
    if psrc is not None and prel is not None:
        media = MEDIA_TYPES.get(prel.suffix.lstrip(".").lower(), "application/octet-stream")
        entity["thumbnail"] = {"@id": crate.add_file(psrc, f"previews/{prel}", encodingFormat=media)}
    crate.describe(entity)
    return entity["@id"]


def _glossary_values(crate: Crate, ds: Mapping[str, Any]) -> list[dict[str, str]]:
    """One PropertyValue per normalised field with an EM Glossary term, linked to a DefinedTerm (``@id`` = IRI)."""
    refs = []
    for prop in ds.get("glossary_terms") or glossary_properties(ds.get("metadata") or {}):  # to_json has them
        iri = prop["propertyID"]
        crate.describe({"@id": iri, "@type": "DefinedTerm", "name": prop["alternateName"],
                        "termCode": iri.rsplit("/", 1)[-1], "inDefinedTermSet": {"@id": EMG_BASE}})
        value_id = f"#dataset-{ds['id']}-{prop['name']}"
        crate.describe({**prop, "@id": value_id, "valueReference": {"@id": iri}})
        refs.append({"@id": value_id})
    return refs


def _root(data: Mapping[str, Any], crate: Crate, people: list[dict[str, Any]], when: dt.datetime) -> dict[str, Any]:
    header = data.get("header") or {}
    root = {
        "@id": "./",
        "@type": "Dataset",
        "name": data.get("title") or "",
        "description": header.get("motivation") or data.get("title") or "",
        "identifier": data.get("pid"),
        "datePublished": when.isoformat(),
        "hasPart": crate.has_part,
        "mentions": [{"@id": f"#activity-{a['seq']}"} for a in data.get("activities") or []],
    }
    if people:
        root["author"] = [{"@id": p["@id"]} for p in people]
    if data.get("start"):
        root["temporalCoverage"] = f"{data['start']}/{data.get('end') or ''}".rstrip("/")
    if header.get("samples"):
        root["keywords"] = [s["name"] for s in header["samples"] if s.get("name")]
    return root


def describe_record(
    crate: Crate, record: Any, previews_root: Path | str | None = None, data_root: Path | str | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]], dt.datetime]:
    """Put the record's JSON, XML, previews (and data files from ``data_root``) in ``crate``.

    Returns the record's Dataset entity (``@id`` ``./``), every other entity, and the
    record's build time; the caller adds the metadata descriptor and writes the graph.
    """
    data = as_json(record)
    if previews_root is None:
        from nexuslims_kernel.config import get_settings

        previews_root = get_settings().previews_path
    data_root = Path(data_root) if data_root else None
    when = _ts(data.get("built_at"))
    people = _people(data.get("header") or {})
    inst = data["instrument"]
    instrument = {
        "@id": f"#instrument-{inst['name']}",
        "@type": "IndividualProduct",
        "name": inst.get("display_name") or inst["name"],
    }
    if inst.get("location"):
        instrument["description"] = f"located in {inst['location']}"
    crate.add_bytes("record.json", json.dumps(data, ensure_ascii=False, indent=2).encode(), "application/json", when)
    crate.add_bytes("record.xml", to_xml(data), "application/xml", when)
    actions = []
    for act in data.get("activities") or []:
        results = [{"@id": _dataset_entity(crate, ds, Path(previews_root), data_root)} for ds in act.get("datasets") or []]
        action = {
            "@id": f"#activity-{act['seq']}",
            "@type": "CreateAction",
            "name": f"Acquisition activity {act['seq']}",
            "instrument": {"@id": instrument["@id"]},
            "result": results,
        }
        action.update({k: v for k, v in (("startTime", act.get("start")), ("endTime", act.get("end"))) if v})
        if people:
            action["agent"] = {"@id": people[0]["@id"]}
        actions.append(action)
    return _root(data, crate, people, when), [*people, instrument, *crate.graph, *actions], when


def write_rocrate(
    record: Any,
    fileobj: IO[bytes],
    previews_root: Path | str | None = None,
    include_data: bool = False,
    store_root: Path | str | None = None,
) -> None:
    """Write the RO-Crate zip of ``record`` to ``fileobj`` (binary, seekable or not).

    ``previews_root`` is where preview paths are relative to (default: the
    configured previews path); data files are read from ``store_root`` (the
    instrument's file store) when ``include_data`` is true.
    """
    with zipfile.ZipFile(fileobj, "w", allowZip64=True) as zf:
        crate = Crate(zf)
        root, entities, when = describe_record(crate, record, previews_root, store_root if include_data else None)
        meta = {"@id": METADATA, "@type": "CreativeWork", "conformsTo": {"@id": CONFORMS}, "about": {"@id": "./"}}
        crate.write_metadata([meta, root, *entities], when)


def write(
    record: Any,
    fileobj: IO[bytes],
    *,
    previews_root: Path | str | None = None,
    include_data: bool = False,
    store_root: Path | str | None = None,
    **_options: Any,
) -> None:
    write_rocrate(record, fileobj, previews_root=previews_root, include_data=include_data, store_root=store_root)


SPEC = ExporterSpec(
    name="rocrate",
    description="RO-Crate 1.1 zip: ro-crate-metadata.json, record JSON/XML, previews (and data files on request)",
    media_type="application/zip",
    extension="zip",
    write=write,
)
