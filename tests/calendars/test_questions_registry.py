"""Question answers -> header fields and consent; the harvester registry (built-in kinds and plug-ins)."""

from __future__ import annotations

import pytest

from nexuslims_kernel.calendars import kinds, register
from nexuslims_kernel.calendars.questions import consent_of, header_fields, parse_answers
from nexuslims_kernel.calendars.registry import factory
from nexuslims_kernel.errors import ConfigError


@pytest.mark.parametrize(("answer", "expected"), [
    ("Agree", True), ("I agree to keep my data", True), ("yes", True), (["Agree"], True), (True, True),
    ("Disagree", False), ("No", False), ("no, thanks", False), ("I do not consent", False), (False, False),
    ("not sure", None), ("", None), (None, None), ("maybe later", None),
])
def test_consent_is_false_only_for_a_clear_no(answer, expected) -> None:
    assert consent_of(answer) is expected


def test_answers_in_nemo_shapes_and_renamed_questions() -> None:
    run_data = ('{"exp": {"type": "textbox", "user_input": "Tomography"}, "why": {"user_input": "Pores"}, '
                '"sample_group": {"type": "group", "user_input": {"0": {"sample_name": "Zeolite", "sample_elements": "Si, Al O"}}}, '
                '"ok": {"type": "radio", "user_input": "Disagree"}}')
    fields, consent = header_fields(parse_answers(run_data), {"title": "exp", "motivation": ["why"], "consent": "ok"})
    assert fields == {"title": "Tomography", "motivation": "Pores", "samples": [{"name": "Zeolite", "elements": ["Si", "Al", "O"]}]}
    assert consent is False
    assert parse_answers(None) == {} and parse_answers("") == {}
    with pytest.raises(ValueError, match="must be a JSON object"):
        parse_answers("[1, 2]")


def test_kinds_by_short_name_and_plugins() -> None:
    assert {"nemo", "ical"} <= set(kinds())
    assert factory("nemo").__module__ == "nexuslims_kernel.calendars.nemo"
    with pytest.raises(ConfigError, match="unknown harvester 'outlook-exchange'; known: ical, nemo"):
        factory("outlook-exchange")
    register("outlook-exchange", lambda instruments: [])
    try:
        assert factory("outlook-exchange")([]) == [] and "outlook-exchange" in kinds()
    finally:
        from nexuslims_kernel.calendars import registry

        registry._registered.pop("outlook-exchange")
