"""Per-record facet values (dataset types, formats), so facets count records, not datasets.

A record with 20,000 datasets has only a handful of distinct types and formats.
``record_facets`` keeps, per record:

- one ``(record_id, kind, value)`` row per distinct dataset type and format, for
  the ``dataset_type``/``format`` filters (index on kind, value, record_id);
- one ``combo`` row whose value lists all of them, so facet counts group one row
  per visible record (a few distinct combinations) instead of one per value.

The record writer refreshes a record's rows in the same transaction as its
datasets (:func:`refresh`); migration 0002 backfills existing records.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, delete, literal, select, union_all
from sqlalchemy.orm import Session

from nexuslims_kernel.db.base import Base
from nexuslims_kernel.db.models import Dataset

#: facet kind -> the dataset column it summarises
KINDS = {"dataset_type": Dataset.dataset_type, "format": Dataset.format}
COMBO = "combo"
_SEP_KIND, _SEP_VALUE = "\x1e", "\x1f"  # ASCII record/unit separators never occur in type or format names

record_facets = Table(
    "record_facets",
    Base.metadata,
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("value", Text, primary_key=True),
    # filters (kind = :k AND value = :v) and per-kind counts, index-only
    Index("ix_record_facets_kind_value", "kind", "value", "record_id"),
)


def _clean(value: str) -> str:
    return value.replace(_SEP_KIND, " ").replace(_SEP_VALUE, " ")


def encode_combo(values: dict[str, Iterable[str]]) -> str:
    """One string for a record's distinct values of every kind (decoded by :func:`decode_combo`)."""
    return _SEP_KIND.join(_SEP_VALUE.join(sorted({_clean(v) for v in values.get(kind, ())})) for kind in KINDS)


def decode_combo(combo: str) -> dict[str, list[str]]:
    return {kind: [v for v in part.split(_SEP_VALUE) if v] for kind, part in zip(KINDS, combo.split(_SEP_KIND))}


def count_combos(rows: Iterable[tuple[str, int]]) -> dict[str, Counter]:
    """Per-kind record counts from ``(combo, number of records)`` rows."""
    out: dict[str, Counter] = {kind: Counter() for kind in KINDS}
    for combo, n in rows:
        for kind, values in decode_combo(combo).items():
            for value in values:
                out[kind][value] += n
    return out


def _distinct_values(record_ids: list[int] | None):  # noqa: ANN202 (a Select)
    parts = []
    for kind, col in KINDS.items():
        stmt = select(Dataset.record_id, literal(kind, String(20)).label("kind"), col.label("value")).where(col.is_not(None))
        if record_ids is not None:
            stmt = stmt.where(Dataset.record_id.in_(record_ids))
        parts.append(stmt.distinct())
    return union_all(*parts)


def _fill(bind: Any, record_ids: list[int] | None, chunk: int = 20_000) -> None:
    values: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record_id, kind, value in bind.execute(_distinct_values(record_ids)):
        values[record_id][kind].add(value)
    rows = [{"record_id": rid, "kind": kind, "value": value}
            for rid, by_kind in values.items() for kind, vals in by_kind.items() for value in vals]
    rows += [{"record_id": rid, "kind": COMBO, "value": encode_combo(by_kind)} for rid, by_kind in values.items()]
    for lo in range(0, len(rows), chunk):
        bind.execute(record_facets.insert(), rows[lo:lo + chunk])


def refresh(sess: Session, record_ids: Iterable[int]) -> None:
    """Recompute the facet rows of ``record_ids`` from their datasets (inside the caller's transaction)."""
    ids = sorted(set(record_ids))
    if not ids:
        return
    sess.execute(delete(record_facets).where(record_facets.c.record_id.in_(ids)))
    _fill(sess, ids)


def rebuild_all(bind: Any) -> None:
    """Refill the whole table from datasets (migration backfill, bulk loads); ``bind`` is a Connection or Session."""
    bind.execute(delete(record_facets))
    _fill(bind, None)
