"""No corpus file loses a normalised field to the vendor plugins (counts recorded on main before them)."""

from __future__ import annotations

import json

import pytest
from conftest import HERE, primary_rows
from corpus_field_counts import file_counts

pytestmark = pytest.mark.corpus

BEFORE = json.loads((HERE / "corpus_field_counts_before.json").read_text())
ROWS = [r for r in primary_rows() if r["relpath"] in BEFORE]


def test_the_fixture_covers_the_corpus(corpus):
    assert len(ROWS) == len(BEFORE) > 50


@pytest.mark.parametrize("row", ROWS, ids=[r["relpath"] for r in ROWS])
def test_no_file_loses_a_field(row, corpus):
    now = file_counts(corpus / row["relpath"])
    before = BEFORE[row["relpath"]]
    assert len(now) == len(before), "number of signals changed"
    lost = [(i, b, n) for i, (b, n) in enumerate(zip(before, now)) if n < b]
    assert not lost, f"(signal, fields before, fields now): {lost}"
