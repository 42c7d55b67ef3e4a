"""Per-record facet values (dataset types, formats), so facets count records, not datasets.

A record with 20,000 datasets has only a handful of distinct types and formats.
Two derived structures, refreshed by the record writer in the same transaction
as a record's datasets (:func:`refresh`):

- ``record_facets``: one ``(record_id, kind, value)`` row per distinct dataset
  type and format, for the ``dataset_type``/``format`` filters (index on kind,
  value, record_id);
- ``records.facet_key``: the record's whole combination of values as a 64-bit
  key into ``facet_combos`` (key -> encoded values). Facet counts then group
  the visible records by three integers (instrument, owner, key) with no
  join, index-only for admins; a catalogue has only a few distinct combinations.

Keys are a hash of the combination, so writers never race to allocate one: the
same combination always gets the same key, inserted if missing.
Migration 0002 backfills the rows, 0003 the keys.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from nexuslims_kernel.db.base import Base
from nexuslims_kernel.db.models import Dataset, Record

#: facet kind -> the dataset column it summarises
KINDS = {"dataset_type": Dataset.dataset_type, "format": Dataset.format}
COMBO = "combo"  # the per-record combination rows of schema 0002, replaced by records.facet_key in 0003
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

facet_combos = Table(
    "facet_combos",
    Base.metadata,
    Column("key", BigInteger, primary_key=True, autoincrement=False),
    Column("value", Text, nullable=False),
)


def _clean(value: str) -> str:
    return value.replace(_SEP_KIND, " ").replace(_SEP_VALUE, " ")


def encode_combo(values: dict[str, Iterable[str]]) -> str:
    """One string for a record's distinct values of every kind (decoded by :func:`decode_combo`)."""
    return _SEP_KIND.join(_SEP_VALUE.join(sorted({_clean(v) for v in values.get(kind, ())})) for kind in KINDS)


def combo_key(combo: str) -> int:
    """A stable signed 64-bit key for an encoded combination (fits BIGINT on both backends)."""
    return int.from_bytes(hashlib.blake2b(combo.encode(), digest_size=8).digest(), "big", signed=True)


@functools.lru_cache(maxsize=4096)
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


def _distinct_values(record_ids: list[int] | None):
    parts = []
    for kind, col in KINDS.items():
        stmt = select(Dataset.record_id, literal(kind, String(20)).label("kind"), col.label("value")).where(col.is_not(None))
        if record_ids is not None:
            stmt = stmt.where(Dataset.record_id.in_(record_ids))
        parts.append(stmt.distinct())
    return union_all(*parts)


def _distinct(bind: Any, record_ids: list[int] | None) -> dict[int, dict[str, set[str]]]:
    values: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for record_id, kind, value in bind.execute(_distinct_values(record_ids)):
        values[record_id][kind].add(value)
    return values


def fill_rows(bind: Any, record_ids: list[int] | None, chunk: int = 20_000) -> dict[int, dict[str, set[str]]]:
    """Insert the per-kind rows of ``record_ids`` (None: all records); returns their values."""
    values = _distinct(bind, record_ids)
    rows = [{"record_id": rid, "kind": kind, "value": value}
            for rid, by_kind in values.items() for kind, vals in by_kind.items() for value in vals]
    for lo in range(0, len(rows), chunk):
        bind.execute(record_facets.insert(), rows[lo:lo + chunk])
    return values


def fill_keys(bind: Any, values: dict[int, dict[str, set[str]]], record_ids: Iterable[int], chunk: int = 5_000) -> None:
    """Set ``records.facet_key`` of ``record_ids`` from ``values`` (records without datasets get NULL)."""
    by_key: dict[int | None, list[int]] = defaultdict(list)
    combos: dict[int, str] = {}
    for rid in record_ids:
        if rid in values:
            combo = encode_combo(values[rid])
            key = combo_key(combo)
            combos[key] = combo
            by_key[key].append(rid)
        else:
            by_key[None].append(rid)
    if combos:
        known = set(bind.scalars(select(facet_combos.c.key).where(facet_combos.c.key.in_(list(combos)))))
        missing = [{"key": k, "value": v} for k, v in combos.items() if k not in known]
        if missing:
            bind.execute(_insert_ignore(bind), missing)
    for key, ids in by_key.items():  # one UPDATE per distinct combination, not one per record
        for lo in range(0, len(ids), chunk):
            bind.execute(update(Record).where(Record.id.in_(ids[lo:lo + chunk])).values(facet_key=key)
                         .execution_options(synchronize_session=False))


def _insert_ignore(bind: Any) -> Any:
    """INSERT that skips keys another writer added meanwhile (same key, same value)."""
    name = bind.get_bind().dialect.name if hasattr(bind, "get_bind") else bind.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(facet_combos).on_conflict_do_nothing(index_elements=["key"])


def refresh(sess: Session, record_ids: Iterable[int]) -> None:
    """Recompute the facet rows and key of ``record_ids`` from their datasets (inside the caller's transaction)."""
    ids = sorted(set(record_ids))
    if not ids:
        return
    sess.execute(delete(record_facets).where(record_facets.c.record_id.in_(ids)))
    fill_keys(sess, fill_rows(sess, ids), ids)


def rebuild_all(bind: Any) -> None:
    """Refill rows and keys from datasets (bulk loads); ``bind`` is a Connection or Session at the current schema."""
    bind.execute(delete(record_facets))
    values = fill_rows(bind, None)
    fill_keys(bind, values, bind.scalars(select(Record.id)).all())
