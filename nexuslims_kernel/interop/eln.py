"""A record as an ``.eln`` file: the ELN Consortium's zipped RO-Crate 1.1 that eLabFTW, Kadi4Mat and others import.

The format asks for exactly one folder at the zip's root holding
``ro-crate-metadata.json``, and one sub-folder per experiment (a ``Dataset``
in the root's ``hasPart``): ELNs import each such Dataset as one entry. So the
record's RO-Crate description (``records.exporters.rocrate``) is written
unchanged, only moved one folder down, and a root Dataset points at it.
Data files are included when the instrument's store is given (the CLI does);
the API writes metadata, XML and previews, like its RO-Crate export.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import IO, Any

from nexuslims_kernel import __version__
from nexuslims_kernel.records.exporters.rocrate import CONFORMS, METADATA, Crate, describe_record
from nexuslims_kernel.records.exporters.spec import ExporterSpec, as_json

MEDIA_TYPE = "application/vnd.eln+zip"  # IANA-registered for .eln
# RO-Crate 1.1 wants a licence on the root; a hub record carries none, so say so rather than imply an open one.
LICENSE = {"@id": "#facility-data-policy", "@type": "CreativeWork", "name": "Facility data policy",
           "description": "Exported from a NexusLIMS Hub: use is governed by the facility's data policy; no open licence is implied."}
PUBLISHER = {"@id": "#nexuslims-hub", "@type": "Organization", "name": f"NexusLIMS Hub {__version__}"}


def folder_name(record_id: Any) -> str:
    """The archive's single top folder: the file name without ``.eln`` (what the spec recommends)."""
    return f"record-{record_id}"


def experiment_dir(data: dict[str, Any]) -> str:
    """A readable, URL-safe folder name for the record inside the crate (no spaces: @ids stay plain)."""
    day = (data.get("start") or "")[:10]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", data.get("title") or "").strip("-.")[:60].strip("-.")
    parts = [p for p in (day, slug) if p]
    return "-".join(parts) or folder_name(data.get("id"))


def write_eln(
    record: Any,
    fileobj: IO[bytes],
    *,
    previews_root: Path | str | None = None,
    store_root: Path | str | None = None,
) -> None:
    """Write ``record`` as an .eln archive to ``fileobj``; data files come from ``store_root`` when given."""
    data = as_json(record)
    exp = experiment_dir(data)
    with zipfile.ZipFile(fileobj, "w", allowZip64=True) as zf:
        crate = Crate(zf, root_dir=f"{folder_name(data.get('id'))}/", part_dir=f"{exp}/")
        experiment, entities, when = describe_record(crate, data, previews_root, store_root)
        experiment.update({"@id": f"{exp}/", "dateCreated": experiment.pop("datePublished")})
        if data.get("pid"):
            experiment["url"] = data["pid"]
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        root = {
            "@id": "./",
            "@type": "Dataset",
            "name": experiment["name"] or exp,
            "description": f"NexusLIMS Hub record {data.get('id')} as an .eln archive",
            "datePublished": now,
            "hasPart": [{"@id": f"{exp}/"}],
            "license": {"@id": LICENSE["@id"]},
        }
        meta = {
            "@id": METADATA,
            "@type": "CreativeWork",
            "about": {"@id": "./"},
            "conformsTo": {"@id": CONFORMS},
            "dateCreated": now,
            "sdPublisher": {"@id": PUBLISHER["@id"]},
            "version": "1.0",
        }
        crate.write_metadata([meta, root, experiment, LICENSE, PUBLISHER, *entities], when)


def write(record: Any, fileobj: IO[bytes], *, previews_root: Path | str | None = None,
          store_root: Path | str | None = None, **_options: Any) -> None:
    write_eln(record, fileobj, previews_root=previews_root, store_root=store_root)


SPEC = ExporterSpec(
    name="eln",
    description=".eln (ELN Consortium): RO-Crate 1.1 in a zip with one top folder, for eLabFTW, Kadi4Mat and others",
    media_type=MEDIA_TYPE,
    extension="eln",
    write=write,
)
