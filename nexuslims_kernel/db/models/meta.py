"""Facts about the database as a whole, one row per key (e.g. ``demo``: the demo made this facility)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from nexuslims_kernel.db.base import Base, JSONType, UTCDateTime, utcnow


class FacilityMeta(Base):
    __tablename__ = "facility_meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
