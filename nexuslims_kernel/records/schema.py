"""The Nexus Experiment XSD shipped with the package, and validation against it."""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

XSD_PATH = Path(__file__).with_name("schemas") / "nexus-experiment.xsd"
NS = "https://data.nist.gov/od/dm/nexus/experiment/v1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"


@functools.cache
def xml_schema() -> etree.XMLSchema:
    """The parsed schema (parsed once per process; the XSD is trusted package data)."""
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


@functools.cache
def element_symbols() -> frozenset[str]:
    """Chemical element symbols the schema allows inside ``<sample><elements>``."""
    tree = etree.parse(str(XSD_PATH))
    found = tree.xpath("//xs:complexType[@name='PeriodicTableElementType']//xs:element/@name", namespaces={"xs": XS})
    return frozenset(str(name) for name in found)


def validation_errors(xml: bytes) -> list[str]:
    """Messages of every schema violation in ``xml`` (empty when valid)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    doc = etree.fromstring(xml, parser)
    schema = xml_schema()
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
