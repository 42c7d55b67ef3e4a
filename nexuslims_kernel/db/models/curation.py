"""What people add to a record after the builder wrote it: curation, its versions, its DOI.

Kept in tables of their own (never in ``records``/``datasets`` columns the builder
writes), so a rebuild of the session replaces the machine part and leaves the human
part alone; :mod:`nexuslims_kernel.publish.merge` lays one over the other on read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nexuslims_kernel.db.base import Base, JSONType, UTCDateTime, utcnow


class RecordCuration(Base):
    """The current curated fields of one record (one row per curated record)."""

    __tablename__ = "record_curation"

    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), primary_key=True)
    # {"title", "description" (Markdown source), "keywords", "rating"}: only the fields someone set.
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)  # the latest record version number
    doi: Mapped[str | None] = mapped_column(String(200))
    doi_state: Mapped[str | None] = mapped_column(String(20))  # draft | findable
    published_version: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    publish_error: Mapped[str | None] = mapped_column(Text)  # why the last Publish failed (shown to the owner)
    # the curated words appended to records.search_text (so search finds them; the builder re-appends them)
    search_suffix: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class DatasetCuration(Base):
    """Per-dataset curation: hidden (kept, never shown or exported), featured, caption."""

    __tablename__ = "dataset_curation"
    __table_args__ = (Index("ix_dataset_curation_record", "record_id"),)

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    caption: Mapped[str | None] = mapped_column(Text)


class RecordVersion(Base):
    """One change to a record's curation: who, when, what (a JSON diff) and the state after it."""

    __tablename__ = "record_versions"
    __table_args__ = (UniqueConstraint("record_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))  # Principal.label, never a token
    # {"field": {"old": ..., "new": ...}}; dataset changes under "datasets.<id>.<flag>"
    diff: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # the whole curation after this change: {"fields": {...}, "datasets": {"<id>": {...}}}
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
