"""Flat parameter views of normalised metadata: what an activity's datasets share.

Normalised metadata is nested (``stage_position.x = {value, unit}``); records
show it as flat ``name -> value`` parameters, where a value is a scalar or a
``{"value", "unit"}`` quantity. The "setup" of an activity is the set of
parameters every one of its datasets has with an equal value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

# Keys that describe one acquisition, never a shared setup.
PER_DATASET = frozenset({"acquisition_time", "acquisition_time_source", "axes", "title", "original_filename"})


def _is_quantity(value: Any) -> bool:
    return isinstance(value, Mapping) and "value" in value and set(value) <= {"value", "unit", "warning"}


def flatten(meta: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; quantities stay whole; lists are kept as values."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and not _is_quantity(value):
            out.update(flatten(value, name + "."))
        elif value is not None and value != "" and value != [] and value != {}:
            out[name] = value
    return out


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def common_parameters(metas: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Flat parameters present with an equal value in every metadata dict (per-dataset keys excluded)."""
    flats = [flatten(m) for m in metas]
    if not flats:
        return {}
    first = {k: v for k, v in flats[0].items() if k.split(".")[0] not in PER_DATASET}
    common = {}
    for key, value in first.items():
        canon = _canon(value)
        if all(key in other and _canon(other[key]) == canon for other in flats[1:]):
            common[key] = value
    return dict(sorted(common.items()))


def unique_parameters(meta: Mapping[str, Any], setup: Mapping[str, Any]) -> dict[str, Any]:
    """Flat parameters of one dataset that its activity's setup does not already state."""
    return {k: v for k, v in sorted(flatten(meta).items()) if k not in setup}


def display_value(value: Any) -> tuple[str, str | None]:
    """(text, unit) for a parameter value: quantities split, lists and dicts as compact JSON."""
    unit = None
    if _is_quantity(value):
        unit = value.get("unit") or None
        value = value.get("value")
    if isinstance(value, bool):
        return ("true" if value else "false"), unit
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str), unit
    return ("" if value is None else str(value)), (str(unit) if unit is not None else None)
