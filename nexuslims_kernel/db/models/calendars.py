"""What calendars tell us: reservations (for record headers) and where each harvest left off."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nexuslims_kernel.db.base import Base, JSONType, UTCDateTime, utcnow


class Reservation(Base):
    """A booking of an instrument (NEMO reservation, iCalendar event); the best overlap fills a record header."""

    __tablename__ = "reservations"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_reservations_instrument_start", "instrument_id", "start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(20))  # nemo | ical
    external_id: Mapped[str] = mapped_column(String(300))  # <server>/reservations/<id>, <feed>/<uid>/<instance>
    start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    # Header fields (title, motivation, samples, project, consent, url) as sessions.reservation holds them.
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")  # sha256 of what the calendar said
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HarvestState(Base):
    """Per server and endpoint: the cursor of the last good harvest and the last error."""

    __tablename__ = "harvest_state"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)  # "<kind>:<server>|<endpoint>"
    cursor: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    last_ok_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_full_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # last complete pass (edits, deletions)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
