"""Fixity audits: every re-hash of a stored file, kept as history (``nexuslims_kernel.ops.fixity``).

A failed check is the mark on the file's datasets: the newest row per file is
its state, and nothing but a later passing check (the admin restored the
bytes) clears it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from nexuslims_kernel.db.base import Base, UTCDateTime, utcnow

#: outcomes of one check; "changed": the index saw a new size or mtime after the build (its sha256 was dropped)
OK, MISMATCH, MISSING, UNREADABLE, CHANGED = "ok", "mismatch", "missing", "unreadable", "changed"


class FixityCheck(Base):
    __tablename__ = "fixity_checks"
    __table_args__ = (
        Index("ix_fixity_checks_file", "file_id", "id"),
        Index("ix_fixity_checks_outcome", "outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("indexed_files.id", ondelete="CASCADE"))
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(12))
    expected_sha256: Mapped[str] = mapped_column(String(64))
    actual_sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)  # bytes read (None when missing)
    detail: Mapped[str] = mapped_column(Text, default="")
