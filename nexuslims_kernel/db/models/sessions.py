"""Instrument sessions and their append-only event log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexuslims_kernel.db.base import Base, JSONType, UTCDateTime, utcnow
from nexuslims_kernel.db.models.instruments import Instrument
from nexuslims_kernel.db.models.people import Group, Person, Project
from nexuslims_kernel.sessions.states import SessionStatus


class InstrumentSession(Base):
    """One stretch of use of one instrument; the unit a record is built from."""

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_status_updated", "status", "updated_at"),
        Index("ix_sessions_instrument_start", "instrument_id", "start"),
        UniqueConstraint("source", "external_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="RESTRICT"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    # The group the record goes to when the project names none (the Logger's or calendar's choice).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))
    start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(20))  # SessionSource
    external_id: Mapped[str | None] = mapped_column(String(200))  # NEMO usage id, iCal UID, ...
    status: Mapped[str] = mapped_column(String(20), default=SessionStatus.WAITING_FOR_END)
    status_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    # Reservation details for the record header: title, motivation, samples, experimenters.
    reservation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    start_event_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    end_event_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    # An admin's say-so: build although longer than sessions.max_length_s; take files another record holds.
    length_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    share_files: Mapped[bool] = mapped_column(Boolean, default=False)
    # Work-queue bookkeeping.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    not_before: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # wait for late uploads
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    instrument: Mapped[Instrument] = relationship()
    person: Mapped[Person | None] = relationship()
    project: Mapped[Project | None] = relationship()
    group: Mapped[Group | None] = relationship()
    events: Mapped[list[SessionEvent]] = relationship(back_populates="session", order_by="SessionEvent.id")


class SessionEvent(Base):
    """Append-only audit: START/END/NOTE from clients, STATUS changes from the machine."""

    __tablename__ = "session_events"
    __table_args__ = (Index("ix_session_events_session", "session_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)  # idempotency key
    kind: Mapped[str] = mapped_column(String(20))  # START | END | NOTE | STATUS
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when it happened (client clock)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    session: Mapped[InstrumentSession | None] = relationship(back_populates="events")
