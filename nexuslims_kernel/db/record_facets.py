"""Per-record facet values (dataset types, formats), so facets count records, not datasets.

A record with 20,000 datasets has only a handful of distinct types and formats;
keeping those few ``(record_id, kind, value)`` rows lets facet counts and the
dataset_type/format filters scan one row per record and value instead of every
dataset. The record writer refreshes a record's rows in the same transaction
as its datasets (:func:`refresh`); migration 0002 backfills existing records.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, delete, literal, select, union_all
from sqlalchemy.orm import Session

from nexuslims_kernel.db.base import Base
from nexuslims_kernel.db.models import Dataset

#: facet kind -> the dataset column it summarises
KINDS = {"dataset_type": Dataset.dataset_type, "format": Dataset.format}

record_facets = Table(
    "record_facets",
    Base.metadata,
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("value", String(100), primary_key=True),
    # filters (kind = :k AND value = :v) and per-kind counts, index-only
    Index("ix_record_facets_kind_value", "kind", "value", "record_id"),
)


def distinct_values(record_ids: Iterable[int] | None = None):  # noqa: ANN201 (a Select)
    """``SELECT DISTINCT record_id, kind, value`` from datasets (of ``record_ids``, or all)."""
    parts = []
    for kind, col in KINDS.items():
        stmt = select(Dataset.record_id, literal(kind, String(20)).label("kind"), col.label("value")).where(col.is_not(None))
        if record_ids is not None:
            stmt = stmt.where(Dataset.record_id.in_(list(record_ids)))
        parts.append(stmt.distinct())
    return union_all(*parts)


def refresh(sess: Session, record_ids: Iterable[int]) -> None:
    """Recompute the facet rows of ``record_ids`` from their datasets (inside the caller's transaction)."""
    ids = sorted(set(record_ids))
    if not ids:
        return
    sess.execute(delete(record_facets).where(record_facets.c.record_id.in_(ids)))
    sess.execute(record_facets.insert().from_select(["record_id", "kind", "value"], distinct_values(ids)))


def rebuild_all(bind) -> None:  # noqa: ANN001 (a Connection or Session)
    """Refill the whole table from datasets (migration backfill, bulk loads)."""
    bind.execute(delete(record_facets))
    bind.execute(record_facets.insert().from_select(["record_id", "kind", "value"], distinct_values()))
