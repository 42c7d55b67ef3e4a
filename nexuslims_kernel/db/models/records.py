"""Records built from sessions: activities, datasets and who may see them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexuslims_kernel.db.base import Base, JSONType, UTCDateTime, utcnow
from nexuslims_kernel.db.models.instruments import Instrument
from nexuslims_kernel.db.models.people import Group, Person
from nexuslims_kernel.db.models.sessions import InstrumentSession


class Record(Base):
    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_instrument_start", "instrument_id", "start"),
        Index("ix_records_owner", "owner_id"),
        Index("ix_records_group", "group_id"),
        # facet counts: index-only GROUP BY for callers who see everything (migration 0003)
        Index("ix_records_facets", "instrument_id", "owner_id", "facet_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), unique=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(Text)
    start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Access: owner, group, public (after an optional embargo). Admins see all.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    embargo_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Header (experimenters, motivation, samples, project) and build summary.
    header: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    warnings: Mapped[list[str]] = mapped_column(JSONType, default=list)
    n_datasets: Mapped[int] = mapped_column(Integer, default=0)
    search_text: Mapped[str] = mapped_column(Text, default="")
    # The record's combination of dataset types and formats (see db.record_facets).
    facet_key: Mapped[int | None] = mapped_column(BigInteger)
    built_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[InstrumentSession] = relationship()
    instrument: Mapped[Instrument] = relationship()
    owner: Mapped[Person | None] = relationship()
    group: Mapped[Group | None] = relationship()
    activities: Mapped[list[Activity]] = relationship(
        back_populates="record", order_by="Activity.seq", cascade="all, delete-orphan", passive_deletes=True
    )
    datasets: Mapped[list[Dataset]] = relationship(
        back_populates="record", order_by="Dataset.id", cascade="all, delete-orphan", passive_deletes=True
    )


class Activity(Base):
    """A burst of acquisitions within a session, with the parameters they share."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_record", "record_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    setup: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # common parameters

    record: Mapped[Record] = relationship(back_populates="activities")
    datasets: Mapped[list[Dataset]] = relationship(back_populates="activity", order_by="Dataset.id")


class Dataset(Base):
    """One signal of one file, with normalised and raw metadata and a preview."""

    __tablename__ = "datasets"
    __table_args__ = (
        Index("ix_datasets_record", "record_id"),
        Index("ix_datasets_type", "dataset_type"),
        Index("ix_datasets_file", "file_id"),  # which record holds a file (one record per file)
        {"sqlite_autoincrement": True},  # ids are links: never hand a deleted dataset's id to another file
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    file_id: Mapped[int | None] = mapped_column(ForeignKey("indexed_files.id", ondelete="SET NULL"))
    relpath: Mapped[str] = mapped_column(Text)  # relative to the instrument's file-store root
    signal_index: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(Text, default="")
    dataset_type: Mapped[str] = mapped_column(String(20), default="Unknown")
    format: Mapped[str | None] = mapped_column(String(40))
    acquired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    file_mtime: Mapped[float | None] = mapped_column(Float)
    shape: Mapped[list[int]] = mapped_column(JSONType, default=list)
    dtype: Mapped[str | None] = mapped_column(String(40))
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)  # normalised
    raw_metadata: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    preview_path: Mapped[str | None] = mapped_column(Text)  # relative to settings.previews_path
    warnings: Mapped[list[str]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    companions: Mapped[list[str]] = mapped_column(JSONType, default=list)

    record: Mapped[Record] = relationship(back_populates="datasets")
    activity: Mapped[Activity | None] = relationship(back_populates="datasets")
