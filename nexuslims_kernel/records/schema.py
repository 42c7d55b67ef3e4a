"""Validation against the Nexus Experiment XSD, and the names the XML uses.

The XSD is not shipped in the package: a site points the ``xsd_path``
setting at its copy (the tests use ``../shared/schemas/nexus-experiment.xsd``).
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from nexuslims_kernel.errors import ConfigError

NS = "https://data.nist.gov/od/dm/nexus/experiment/v1.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: The 118 element symbols, which is what the schema's PeriodicTableElementType allows in <sample><elements>.
ELEMENT_SYMBOLS = frozenset(
    ["H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"]
)


def element_symbols() -> frozenset[str]:
    return ELEMENT_SYMBOLS


def xsd_path() -> Path:
    """The configured XSD, or a one-line error saying how to configure it."""
    from nexuslims_kernel.config import get_settings

    path = get_settings().xsd_path
    if path is None:
        raise ConfigError("no Nexus Experiment XSD configured: set xsd_path (NXHUB_XSD_PATH) to nexus-experiment.xsd")
    if not path.is_file():
        raise ConfigError(f"xsd_path {path} does not exist")
    return path


@functools.cache
def _schema(path: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(path, parser))


def validation_errors(xml: bytes, xsd: Path | str | None = None) -> list[str]:
    """Messages of every schema violation in ``xml`` (empty when valid)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    doc = etree.fromstring(xml, parser)
    schema = _schema(str(xsd or xsd_path()))
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
