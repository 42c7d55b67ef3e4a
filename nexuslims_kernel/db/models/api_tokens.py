"""Personal API tokens for standalone mode (the hub issues its own in hub mode)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from nexuslims_kernel.db.base import Base, UTCDateTime, utcnow
from nexuslims_kernel.db.models.people import Person


class ApiToken(Base):
    """A bearer token of one person; only its sha256 is stored (table from migration 0002)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: after this the token no longer works (NULL: never expires; migration 0005)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()
