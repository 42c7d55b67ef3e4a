"""Listing records for a person: filters, full-text search, sort, cursor pages, facets.

Everything starts from :func:`nexuslims_kernel.db.acl.visible_clause`, so a
count or facet never includes a record the caller may not see. Shared by the
API and the notebook catalog.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
from collections import Counter
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, literal, null, or_, select, tuple_, union_all
from sqlalchemy.orm import Session

from nexuslims_kernel.db import record_facets, search
from nexuslims_kernel.db.acl import Principal, visible_clause
from nexuslims_kernel.db.models import Group, Instrument, Person, Record
from nexuslims_kernel.db.record_facets import record_facets as rf
from nexuslims_kernel.errors import InvalidInputError

SORTS = ("-start", "start", "title", "-title", "relevance")
MAX_LIMIT = 500
FACETS = ("instrument", "owner", "dataset_type", "format")
#: What a list page returns per record: plain columns, so no ORM objects are built.
SUMMARY_COLUMNS = (
    Record.id, Record.title, Record.start, Record.end, Instrument.name.label("instrument"),
    Person.username.label("owner"), Group.name.label("group"), Record.is_public, Record.embargo_until,
    Record.n_datasets, Record.built_at,
)


@dataclasses.dataclass(frozen=True)
class RecordFilter:
    """What the caller asked for; every field optional."""

    q: str | None = None
    instrument: str | None = None  # instrument name
    user: str | None = None  # owner's username
    start_from: dt.datetime | None = None  # record start >= this
    start_to: dt.datetime | None = None  # record start < this
    dataset_type: str | None = None
    format: str | None = None

    def conditions(self, dialect: str) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        match = search.match_clause(dialect, self.q)
        if match is not None:
            out.append(match)
        if self.instrument:
            out.append(Record.instrument_id.in_(select(Instrument.id).where(Instrument.name == self.instrument)))
        if self.user:
            out.append(Record.owner_id.in_(select(Person.id).where(Person.username == self.user)))
        if self.start_from:
            out.append(Record.start >= self.start_from)
        if self.start_to:
            out.append(Record.start < self.start_to)
        for kind, value in (("dataset_type", self.dataset_type), ("format", self.format)):
            if value:  # one row per record and value (record_facets), not one per dataset
                out.append(Record.id.in_(select(rf.c.record_id).where(rf.c.kind == kind, rf.c.value == value)))
        return out


def where(principal: Principal, flt: RecordFilter, dialect: str) -> ColumnElement[bool]:
    """ACL and filters as one WHERE clause on ``Record``."""
    return and_(visible_clause(principal), *flt.conditions(dialect))


def count(sess: Session, principal: Principal, flt: RecordFilter) -> int:
    dialect = sess.get_bind().dialect.name
    return sess.scalar(select(func.count()).select_from(Record).where(where(principal, flt, dialect))) or 0


#: GROUPING() masks of (instrument_id, owner_id, facet_key): which column a row counts by
BY_INSTRUMENT, BY_OWNER, BY_COMBO = 0b011, 0b101, 0b110


def _grouped(where_clause: ColumnElement[bool], dialect: str) -> Any:
    """(g, instrument_id, owner_id, facet_key, n): record counts per instrument, per owner, per combination.

    PostgreSQL counts all three in one scan (GROUPING SETS); SQLite, which has
    no grouping sets, with three GROUP BYs over the same WHERE.
    """
    cols = (Record.instrument_id, Record.owner_id, Record.facet_key)
    if dialect == "postgresql":
        return (
            select(*cols, func.grouping(*cols).label("g"), func.count().label("n"))
            .where(where_clause)
            .group_by(func.grouping_sets(*(tuple_(c) for c in cols)))
            .subquery("g")
        )
    parts = []
    for mask, col in zip((BY_INSTRUMENT, BY_OWNER, BY_COMBO), cols):
        picked = [c if c is col else null().label(c.key) for c in cols]
        parts.append(select(*picked, literal(mask).label("g"), func.count().label("n")).where(where_clause).group_by(col))
    return union_all(*parts).subquery("g")


def facets(sess: Session, principal: Principal, flt: RecordFilter) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """The number of matching records and record counts per instrument, owner, dataset type and format.

    Visible, filtered records are counted per instrument, per owner and per
    combination of dataset types and formats (``records.facet_key``): a few
    hundred rows even for 50,000 records, turned into per-value counts here.
    Everything starts from the ACL clause, so nothing hidden is ever counted.
    """
    dialect = sess.get_bind().dialect.name
    grouped = _grouped(where(principal, flt, dialect), dialect)
    fc = record_facets.facet_combos
    stmt = (
        select(grouped.c.g, Instrument.name, Person.username, fc.c.value, grouped.c.n)
        .select_from(grouped)
        .outerjoin(Instrument, Instrument.id == grouped.c.instrument_id)
        .outerjoin(Person, Person.id == grouped.c.owner_id)
        .outerjoin(fc, fc.c.key == grouped.c.facet_key)
    )
    total = 0
    by: dict[str, Counter] = {"instrument": Counter(), "owner": Counter()}
    combos: Counter = Counter()
    for mask, instrument, owner, values, n in sess.execute(stmt):
        if mask == BY_INSTRUMENT:
            total += n
            by["instrument"][instrument] += n
        elif mask == BY_OWNER and owner is not None:
            by["owner"][owner] += n
        elif mask == BY_COMBO and values is not None:
            combos[values] += n
    by.update(record_facets.count_combos(combos.items()))
    out = {name: [{"value": value, "count": n} for value, n in by[name].items()] for name in FACETS}
    for items in out.values():
        items.sort(key=lambda f: (-f["count"], str(f["value"])))
    return total, out


# -- pages ------------------------------------------------------------------


def encode_cursor(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


_BAD_CURSOR = "cursor is not valid; use next_cursor from the previous page"
_MAX_ID = 2**63 - 1


def decode_cursor(cursor: str, sort: str) -> dict[str, Any]:
    """The checked content of a cursor: exactly the keys and types :func:`page` writes, or InvalidInputError.

    Cursors are opaque to clients, but they are only base64 JSON, so every field
    is validated (no float ids, no naive or out-of-range times, no objects as
    sort values) before it reaches a query.
    """
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise InvalidInputError(_BAD_CURSOR) from None
    if not isinstance(data, dict) or data.get("s") not in SORTS:
        raise InvalidInputError(_BAD_CURSOR)
    if data["s"] != sort:
        raise InvalidInputError("cursor belongs to a different sort order")
    if sort == "relevance":
        if set(data) != {"s", "o"} or not _whole(data["o"], 0, 10**9):
            raise InvalidInputError(_BAD_CURSOR)
        return data
    if set(data) != {"s", "v", "id"} or not _whole(data["id"], 0, _MAX_ID):
        raise InvalidInputError(_BAD_CURSOR)
    value = data["v"]
    if value is not None and (not isinstance(value, str) or len(value) > 2000):
        raise InvalidInputError(_BAD_CURSOR)
    if value is not None and sort.endswith("start"):
        try:
            when = dt.datetime.fromisoformat(value)
            if when.tzinfo is None:
                raise ValueError("naive")
            data["v"] = when.astimezone(dt.UTC)
        except (ValueError, OverflowError):
            raise InvalidInputError(_BAD_CURSOR) from None
    return data


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _keyset(sort: str, data: dict[str, Any]) -> ColumnElement[bool]:
    """Rows after the (validated) cursor in ``sort`` order (NULL start sorts last ascending, as in PostgreSQL)."""
    last_id, value = data["id"], data["v"]
    col = Record.start if sort.endswith("start") else Record.title
    after = tuple_(literal(value, col.type), literal(last_id))
    if sort.startswith("-"):
        if value is None:
            return or_(and_(col.is_(None), Record.id < last_id), col.is_not(None))
        return tuple_(col, Record.id) < after
    if value is None:
        return and_(col.is_(None), Record.id > last_id)
    return or_(tuple_(col, Record.id) > after, col.is_(None))


def _order(sort: str, dialect: str, q: str | None) -> list[Any]:
    if sort == "relevance":
        rank = search.rank_order(dialect, q)
        return ([rank] if rank is not None else [Record.start.desc().nulls_first()]) + [Record.id.desc()]
    col = Record.start if sort.endswith("start") else Record.title
    if sort.startswith("-"):
        return [col.desc().nulls_first(), Record.id.desc()]
    return [col.asc().nulls_last(), Record.id.asc()]


def page(
    sess: Session, principal: Principal, flt: RecordFilter, *, sort: str = "-start", limit: int = 50, cursor: str | None = None
) -> tuple[list[Row], str | None]:
    """One page of summary rows (:data:`SUMMARY_COLUMNS`, no ORM objects) and the next cursor."""
    if sort not in SORTS:
        raise InvalidInputError(f"sort must be one of {', '.join(SORTS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be between 1 and {MAX_LIMIT}")
    dialect = sess.get_bind().dialect.name
    stmt = (
        select(*SUMMARY_COLUMNS)
        .join(Instrument, Instrument.id == Record.instrument_id)
        .outerjoin(Person, Person.id == Record.owner_id)
        .outerjoin(Group, Group.id == Record.group_id)
        .where(where(principal, flt, dialect))
        .order_by(*_order(sort, dialect, flt.q))
        .limit(limit + 1)
    )
    offset = 0
    if cursor:
        data = decode_cursor(cursor, sort)
        if sort == "relevance":
            offset = data["o"]
            stmt = stmt.offset(offset)
        else:
            stmt = stmt.where(_keyset(sort, data))
    rows = list(sess.execute(stmt).all())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        if sort == "relevance":
            next_cursor = encode_cursor({"s": sort, "o": offset + limit})
        else:
            value = last.start.isoformat() if sort.endswith("start") and last.start else (last.title if sort.endswith("title") else None)
            next_cursor = encode_cursor({"s": sort, "v": value, "id": last.id})
    return rows, next_cursor
