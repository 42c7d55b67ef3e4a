"""Reservation and usage questions (NEMO dynamic forms) -> record header fields and data consent.

NEMO stores answers as ``{question_name: {"type", "title", "user_input"}}``;
group questions (samples) answer ``{"0": {sub_name: value}, "1": ...}``. Which
question holds what is configurable per instrument (``questions`` in the
harvester settings); the defaults are the names NexusLIMS facilities use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from nexuslims_kernel.db.clean import db_clean

DEFAULT_QUESTIONS: dict[str, list[str]] = {
    "title": ["experiment_title", "title"],
    "motivation": ["experiment_purpose", "purpose", "motivation"],
    "project": ["project_id", "project"],
    "consent": ["data_consent", "consent"],
    "samples": ["sample_group", "samples"],
    "sample_name": ["sample_name", "name"],
    "sample_id": ["sample_or_pid", "sample_pid", "pid"],
    "sample_description": ["sample_details", "description"],
    "sample_elements": ["sample_elements", "elements", "periodic_table"],
}
YES = {"agree", "yes", "y", "true", "1", "i agree", "consent", "accept"}
NO = {"disagree", "no", "n", "false", "0", "i disagree", "decline", "declined", "no consent", "refuse"}


def parse_answers(raw: Any) -> dict[str, Any]:
    """``question_data`` (object) or ``run_data`` / ``pre_run_data`` (JSON strings) as ``{name: answer}``."""
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw:
            return {}
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValueError(f"answers are not valid JSON ({exc.msg} at character {exc.pos})") from None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"answers must be a JSON object, got {type(raw).__name__}")
    out = {}
    for name, item in raw.items():
        out[str(name)] = item.get("user_input") if isinstance(item, Mapping) and "user_input" in item else item
    return out


def _pick(answers: Mapping[str, Any], names: list[str]) -> Any:
    for name in names:
        value = answers.get(name)
        if value not in (None, "", [], {}):
            return value
    return None


def consent_of(value: Any) -> bool | None:
    """True / False for a clear answer, None when unanswered or unclear (then records are kept)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value).strip().lower().rstrip(".")
    first = text.replace(",", " ").split()[0] if text.split() else ""
    if text in YES or first in ("agree", "yes") or text.startswith("i agree"):
        return True
    if text in NO or first in ("no", "disagree") or text.startswith(("i disagree", "i do not", "do not")):
        return False
    return None


def _samples(value: Any, names: Mapping[str, list[str]]) -> list[dict[str, Any]]:
    rows = value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else [value]
    out = []
    for row in rows:
        if not isinstance(row, Mapping):
            if row:
                out.append({"name": str(row)})
            continue
        elements = _pick(row, names["sample_elements"]) or []
        if isinstance(elements, str):
            elements = [e for e in elements.replace(",", " ").split() if e]
        sample = {"id": _pick(row, names["sample_id"]), "name": _pick(row, names["sample_name"]),
                  "description": _pick(row, names["sample_description"]), "elements": [str(e) for e in elements]}
        if any(sample.values()):
            out.append({k: v for k, v in sample.items() if v not in (None, [])})
    return out


def header_fields(answers: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], bool | None]:
    """(header fields found in the answers, consent) with the question names of ``overrides`` first."""
    names = {k: list(v) for k, v in DEFAULT_QUESTIONS.items()}
    for key, value in (overrides or {}).items():
        if key in names:
            names[key] = [value] if isinstance(value, str) else list(value)
    out: dict[str, Any] = {}
    for key in ("title", "motivation", "project"):
        value = _pick(answers, names[key])
        if value is not None:
            out[key] = db_clean(str(value))[:2000]
    samples = _pick(answers, names["samples"])
    if samples is not None:
        out["samples"] = db_clean(_samples(samples, names))
    return out, consent_of(_pick(answers, names["consent"]))
