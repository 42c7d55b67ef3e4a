"""Instruments: where sessions happen and where their files land."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nexuslims_kernel.db.base import Base, JSONType, UTCDateTime, utcnow


class Instrument(Base):
    __tablename__ = "instruments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(300))
    location: Mapped[str | None] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    filestore_root: Mapped[str | None] = mapped_column(Text)
    # none | nemo | ical: where reservations and usage come from besides the Logger.
    harvester: Mapped[str] = mapped_column(String(20), default="none")
    harvester_settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # sha256 of the Logger token; the token itself is shown once and never stored.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
