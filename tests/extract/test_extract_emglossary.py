"""The EM Glossary table: well-formed, unique ids, and only for fields the extractor emits."""

from __future__ import annotations

import re

from nexuslims_kernel.extract.emglossary import EMG_BASE, EMG_TERMS, emg_iri, glossary_properties


def test_every_id_is_well_formed_and_unique():
    ids = [emg_id for emg_id, _label in EMG_TERMS.values()]
    assert all(re.fullmatch(r"EMG_\d{8}", i) for i in ids), ids
    assert len(ids) == len(set(ids))
    labels = [label for _id, label in EMG_TERMS.values()]
    assert len(labels) == len(set(labels))


def test_the_issue_s_reference_terms():
    assert EMG_TERMS["acceleration_voltage"][0] == "EMG_00000004"
    assert EMG_TERMS["beam_current"][0] == "EMG_00000006"
    assert EMG_TERMS["emission_current"][0] == "EMG_00000025"
    assert EMG_TERMS["convergence_angle"][0] == "EMG_00000010"
    assert emg_iri("working_distance") == EMG_BASE + "EMG_00000050"
    assert emg_iri("acquisition_time") is None  # ours is a date-time, the glossary's a duration


def test_properties_carry_value_unit_and_iri():
    props = glossary_properties({"dwell_time": {"value": 1e-6, "unit": "s"}, "microscope": "Titan",
                                 "beam_current": {"value": 0.1, "unit": "nA"}})
    assert [p["name"] for p in props] == ["beam_current", "dwell_time"]
    assert props[1] == {"@type": "PropertyValue", "name": "dwell_time", "alternateName": "Dwell Time",
                        "propertyID": EMG_BASE + "EMG_00000015", "value": 1e-6, "unitText": "s"}
