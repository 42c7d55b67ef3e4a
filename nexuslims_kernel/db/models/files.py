"""The file-store index: what is on disk, so finding a session's files is a query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from nexuslims_kernel.db.base import Base, JSONType, UTCDateTime, utcnow


class IndexedFile(Base):
    __tablename__ = "indexed_files"
    __table_args__ = (
        UniqueConstraint("instrument_id", "relpath"),
        Index("ix_indexed_files_instrument_mtime", "instrument_id", "mtime"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    relpath: Mapped[str] = mapped_column(Text)  # POSIX path relative to the instrument's root
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float] = mapped_column(Float)  # seconds since the epoch (UTC)
    etag: Mapped[str | None] = mapped_column(String(200))  # object stores: ETag / generation; None for folders
    # Fixity, filled by the build worker for a record's files; both reset when the file changes.
    sha256: Mapped[str | None] = mapped_column(String(64))
    crc32: Mapped[int | None] = mapped_column(BigInteger)  # lets zips stream without re-reading for a CRC
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IndexedDir(Base):
    """Directory mtimes from the last scan, so an incremental scan skips unchanged folders.

    ``mtime_ns`` is None while a folder still holds files that had not settled
    (being written), which forces a rescan next time.
    """

    __tablename__ = "indexed_dirs"
    __table_args__ = (UniqueConstraint("instrument_id", "relpath"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    relpath: Mapped[str] = mapped_column(Text)  # POSIX, relative to the root; "" is the root
    mtime_ns: Mapped[int | None] = mapped_column(BigInteger)
    newest_file_mtime: Mapped[float | None] = mapped_column(Float)  # recent writes keep a folder "hot"
    scanned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExtractionCache(Base):
    """Extraction results keyed by file identity, so rebuilds skip unchanged files."""

    __tablename__ = "extraction_cache"
    __table_args__ = (UniqueConstraint("instrument_id", "relpath"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"))
    relpath: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float] = mapped_column(Float)
    extractor_version: Mapped[str] = mapped_column(String(50))
    result: Mapped[dict[str, Any]] = mapped_column(JSONType)  # FileResult.to_dict()
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
