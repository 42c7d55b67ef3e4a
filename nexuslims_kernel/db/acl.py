"""The one gate to records: who is asking (:class:`Principal`) and what they may see.

Every read of records, datasets, files, previews, counts, facets and exports
for a person goes through :func:`visible_clause` (the API and the catalog
alike), so the rule lives in exactly one place:

- admins see every record;
- a person sees a record they own, one of their groups' records, and public
  records whose embargo has passed;
- anonymous callers see public records whose embargo has passed;
- instrument (Logger) tokens see no records at all.

A record someone may not see is reported as *not found* (never "forbidden"),
so its existence does not leak.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from nexuslims_kernel.db.base import utcnow
from nexuslims_kernel.db.models import Dataset, DatasetCuration, Instrument, Person, Record, memberships
from nexuslims_kernel.errors import NotFoundError

Kind = Literal["anonymous", "user", "instrument"]


@dataclasses.dataclass(frozen=True)
class Principal:
    """An authenticated caller: a person, an instrument's Logger, or nobody."""

    kind: Kind = "anonymous"
    person_id: int | None = None
    username: str | None = None
    group_ids: frozenset[int] = frozenset()
    is_admin: bool = False
    instrument_id: int | None = None
    instrument_name: str | None = None

    @classmethod
    def anonymous(cls) -> Principal:
        return cls()

    @classmethod
    def for_instrument(cls, inst: Instrument) -> Principal:
        return cls(kind="instrument", instrument_id=inst.id, instrument_name=inst.name)

    @classmethod
    def for_username(cls, sess: Session, username: str, *, is_admin: bool = False) -> Principal:
        """A person by username; unknown people are users with no records of their own."""
        person = sess.scalar(select(Person).where(Person.username == username))
        if person is None:
            return cls(kind="user", username=username, is_admin=is_admin)
        return cls.for_person(sess, person, is_admin=is_admin)

    @classmethod
    def for_person(cls, sess: Session, person: Person, *, is_admin: bool = False) -> Principal:
        groups = sess.scalars(select(memberships.c.group_id).where(memberships.c.person_id == person.id)).all()
        return cls(
            kind="user", person_id=person.id, username=person.username, group_ids=frozenset(groups),
            is_admin=bool(person.is_admin or is_admin),
        )

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    @property
    def label(self) -> str:
        """Who this is, for audit events (never a token)."""
        if self.kind == "instrument":
            return f"logger:{self.instrument_name}"
        return f"user:{self.username}" if self.kind == "user" else "anonymous"


def public_clause(now: dt.datetime | None = None) -> ColumnElement[bool]:
    """Public records whose embargo (if any) has passed."""
    now = now or utcnow()
    return and_(Record.is_public.is_(True), or_(Record.embargo_until.is_(None), Record.embargo_until <= now))


def visible_clause(principal: Principal, now: dt.datetime | None = None) -> ColumnElement[bool]:
    """A WHERE clause on ``Record`` selecting what ``principal`` may see."""
    if principal.kind == "instrument":
        return false()
    if principal.is_admin:
        return true()
    if principal.kind != "user" or principal.person_id is None:
        return public_clause(now)
    mine = [Record.owner_id == principal.person_id]
    if principal.group_ids:
        mine.append(Record.group_id.in_(sorted(principal.group_ids)))
    return or_(*mine, public_clause(now))


def visible_records(principal: Principal, stmt: Select | None = None, now: dt.datetime | None = None) -> Select:
    """``stmt`` (default ``select(Record)``) limited to the records ``principal`` may see."""
    stmt = select(Record) if stmt is None else stmt
    return stmt.where(visible_clause(principal, now))


def visible_record_ids(principal: Principal, now: dt.datetime | None = None) -> Select:
    """A subquery of the ids of visible records (for joins from datasets, activities, files)."""
    return select(Record.id).where(visible_clause(principal, now))


def shown_clause() -> ColumnElement[bool]:
    """Datasets not hidden by their record's curator (hidden ones are kept but never shown or exported)."""
    return ~exists().where(DatasetCuration.dataset_id == Dataset.id, DatasetCuration.hidden.is_(True))


def visible_datasets(principal: Principal, stmt: Select | None = None, now: dt.datetime | None = None) -> Select:
    """``stmt`` (default ``select(Dataset)``) limited to shown datasets of visible records."""
    stmt = select(Dataset) if stmt is None else stmt
    return stmt.join(Record, Record.id == Dataset.record_id).where(visible_clause(principal, now), shown_clause())


def get_visible_record(sess: Session, principal: Principal, record_id: int) -> Record:
    """The record, or NotFoundError when it is missing *or* hidden from ``principal``."""
    record = sess.scalar(visible_records(principal).where(Record.id == record_id))
    if record is None:
        raise NotFoundError(f"record {record_id} not found")
    return record


def get_visible_dataset(sess: Session, principal: Principal, dataset_id: int) -> Dataset:
    """The dataset, or NotFoundError when it is missing or its record is hidden."""
    ds = sess.scalar(visible_datasets(principal).where(Dataset.id == dataset_id))
    if ds is None:
        raise NotFoundError(f"dataset {dataset_id} not found")
    return ds
