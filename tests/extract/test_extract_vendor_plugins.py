"""The vendor plugins are published like a third party's: an entry point naming Extractor instances."""

from __future__ import annotations

import importlib
import tomllib

from conftest import REPO

from nexuslims_kernel.extract.registry import ENTRY_POINT_GROUP, REGISTRY, Extractor
from nexuslims_kernel.extract.vendors.quantities import TARGET_UNITS, TEXT_FIELDS


def _entry_point_target() -> str:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return project["entry-points"][ENTRY_POINT_GROUP]["vendors"]


def test_entry_point_names_the_plugins_and_the_registry_has_them():
    module, _, attr = _entry_point_target().partition(":")
    plugins = getattr(importlib.import_module(module), attr)()
    assert plugins and all(isinstance(p, Extractor) for p in plugins)
    names = [p.name for p in plugins]
    assert len(names) == len(set(names))
    registered = {e.name for e in REGISTRY.extractors()}
    assert set(names) <= registered


def test_every_spec_table_field_has_a_unit_or_is_text():
    from nexuslims_kernel.extract.vendors import fei, orion, tescan, tofwerk

    for table in (fei.FEI, tescan.TESCAN, orion.ORION_ZEISS, orion.ORION_FIBICS, tofwerk.TOFWERK):
        for field in table:
            name = field.split(".", 1)[1] if field.startswith("stage.") else field
            assert name in TARGET_UNITS or name in TEXT_FIELDS, name
