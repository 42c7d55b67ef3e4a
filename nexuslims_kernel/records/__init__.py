"""Records: assembly from a session's datasets, and export as Nexus XML, JSON and RO-Crate.

Public API::

    write_record(sess, session, activities, warnings) -> Record   # in the caller's transaction
    load_record(sess, record_id) -> Record                        # eager, for exports
    to_json(record) -> dict;  to_xml(record) -> bytes;  write_rocrate(record, fileobj, previews_root, ...)
    EXPORTERS / get_exporter(name) -> ExporterSpec(name, media_type, extension, write)
    validation_errors(xml_bytes) -> list[str]                     # against the XSD at settings.xsd_path
"""

from nexuslims_kernel.records.assemble import write_record
from nexuslims_kernel.records.exporters import EXPORTERS, ExporterSpec, get_exporter
from nexuslims_kernel.records.exporters.rocrate import write_rocrate
from nexuslims_kernel.records.exporters.xml import to_xml
from nexuslims_kernel.records.inputs import DatasetInput
from nexuslims_kernel.records.schema import validation_errors
from nexuslims_kernel.records.view import load_record, to_json

__all__ = [
    "EXPORTERS",
    "DatasetInput",
    "ExporterSpec",
    "get_exporter",
    "load_record",
    "to_json",
    "to_xml",
    "validation_errors",
    "write_record",
    "write_rocrate",
]
