"""Stored (uncompressed) ZIP64 archives generated on the fly, sized before the first byte.

Why not ``zipfile`` or zipstream-ng: both compute every file's CRC-32 while
streaming, which on a 2-core host costs as much CPU as sending the data. The
build worker already records each file's CRC-32 (with its sha256) in the file
index, so an entry whose CRC is known gets it in its local header and its
bytes go out untouched; an entry without one gets its CRC computed on the way
and written in a data descriptor after the data. Either way every size is
known in advance, so the response carries a Content-Length.

The layout follows PKWARE's APPNOTE 6.3: every entry uses ZIP64 extra fields
(any size, any offset), UTF-8 names (flag bit 11), Unix permissions, and the
archive ends with the ZIP64 end record, its locator and a classic end record.
"""

from __future__ import annotations

import dataclasses
import os
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

READ_SIZE = 1 << 20
_MAX32, _MAX16 = 0xFFFFFFFF, 0xFFFF
_VERSION = 45  # 4.5: ZIP64
_MADE_BY = (3 << 8) | _VERSION  # Unix
_UTF8, _DESCRIPTOR = 1 << 11, 1 << 3
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_ZIP64_LOCAL = struct.Struct("<HHQQ")
_ZIP64_CENTRAL = struct.Struct("<HHQQQ")
_DATA_DESCRIPTOR = struct.Struct("<IIQQ")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")
_END = struct.Struct("<IHHHHIIH")
_TAIL = _END64.size + _LOCATOR64.size + _END.size


class FileChanged(OSError):
    """A file's size changed between planning the archive and sending it."""


@dataclasses.dataclass(frozen=True)
class FileSpan:
    """Send ``size`` bytes of ``path`` here: yielded instead of the data when the caller sends files itself."""

    path: str
    size: int


@dataclasses.dataclass(frozen=True)
class Entry:
    """One file of the archive: where it is, its name inside, and what we know of it."""

    arcname: str
    path: str | None  # None: ``data`` is the content
    size: int
    mtime: float
    crc32: int | None = None  # known: no data descriptor, no CRC work while streaming
    data: bytes | None = None
    opener: Callable[[], Any] | None = dataclasses.field(default=None, compare=False)  # a stream, e.g. of a bucket object

    @classmethod
    def from_file(cls, path: str, arcname: str, crc32: int | None = None) -> Entry:
        st = os.stat(path)
        return cls(arcname, path, st.st_size, st.st_mtime, crc32)

    @classmethod
    def from_stream(cls, ident: str, arcname: str, size: int, mtime: float, opener: Callable[[], Any],
                    crc32: int | None = None) -> Entry:
        """Content read from ``opener()`` (an object of a bucket store); ``ident`` names it like a path."""
        return cls(arcname, ident, size, mtime, crc32, None, opener)

    @classmethod
    def from_bytes(cls, arcname: str, data: bytes) -> Entry:
        return cls(arcname, None, len(data), time.time(), zlib.crc32(data), data)

    @property
    def name(self) -> bytes:
        return self.arcname.encode("utf-8")

    @property
    def streamed_crc(self) -> bool:
        return self.crc32 is None


def _dos_time(mtime: float) -> tuple[int, int]:
    t = time.localtime(mtime)
    year = min(max(t.tm_year, 1980), 2107)
    return (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2), ((year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday


def _local_size(e: Entry) -> int:
    return _LOCAL.size + len(e.name) + _ZIP64_LOCAL.size + (_DATA_DESCRIPTOR.size if e.streamed_crc else 0)


def _central_size(e: Entry) -> int:
    return _CENTRAL.size + len(e.name) + _ZIP64_CENTRAL.size


def archive_size(entries: list[Entry]) -> int:
    """The exact length of :func:`generate`'s output."""
    return sum(_local_size(e) + e.size + _central_size(e) for e in entries) + _TAIL


def _local_header(e: Entry) -> bytes:
    flags = _UTF8 | (_DESCRIPTOR if e.streamed_crc else 0)
    t, d = _dos_time(e.mtime)
    crc, size = (0, 0) if e.streamed_crc else (e.crc32, e.size)  # with a descriptor these come after the data
    head = _LOCAL.pack(0x04034B50, _VERSION, flags, 0, t, d, crc, _MAX32, _MAX32, len(e.name), _ZIP64_LOCAL.size)
    return head + e.name + _ZIP64_LOCAL.pack(0x0001, 16, size, size)


def _central_header(e: Entry, crc: int, offset: int) -> bytes:
    flags = _UTF8 | (_DESCRIPTOR if e.streamed_crc else 0)
    t, d = _dos_time(e.mtime)
    head = _CENTRAL.pack(0x02014B50, _MADE_BY, _VERSION, flags, 0, t, d, crc, _MAX32, _MAX32, len(e.name),
                         _ZIP64_CENTRAL.size, 0, 0, 0, 0o100644 << 16, _MAX32)
    return head + e.name + _ZIP64_CENTRAL.pack(0x0001, 24, e.size, e.size, offset)


def _tail(count: int, cd_offset: int, cd_size: int) -> bytes:
    end64_offset = cd_offset + cd_size
    return (
        _END64.pack(0x06064B50, _END64.size - 12, _MADE_BY, _VERSION, 0, 0, count, count, cd_size, cd_offset)
        + _LOCATOR64.pack(0x07064B50, 0, end64_offset, 1)
        + _END.pack(0x06054B50, 0, 0, min(count, _MAX16), min(count, _MAX16), min(cd_size, _MAX32), _MAX32, 0)
    )


def _contents(e: Entry) -> Iterator[bytes]:
    if e.data is not None:
        yield e.data
        return
    sent = 0
    with (e.opener() if e.opener is not None else open(e.path, "rb")) as fh:  # type: ignore[arg-type]
        while sent < e.size:
            chunk = fh.read(min(READ_SIZE, e.size - sent))
            if not chunk:
                break
            sent += len(chunk)
            yield chunk
        if sent != e.size or fh.read(1):
            raise FileChanged(f"{e.arcname} changed size while it was being sent")


def generate(entries: list[Entry], on_crc: Callable[[Entry, int], None] | None = None,
             spans: bool = False) -> Iterator[bytes | FileSpan]:
    """The archive, piece by piece (file data as read, headers as small pieces).

    With ``spans``, the data of an entry whose CRC is known comes as one
    :class:`FileSpan` for the caller to send (e.g. with ``sendfile``, never
    through Python). ``on_crc(entry, crc)`` is called for each entry whose CRC
    was computed here, so the caller can remember it. Raises
    :class:`FileChanged` if a file no longer has the size promised by
    :func:`archive_size`.
    """
    offset, central = 0, []
    for e in entries:
        header = _local_header(e)
        yield header
        crc = 0
        if spans and not e.streamed_crc and e.path is not None and e.opener is None:
            yield FileSpan(e.path, e.size)
        else:
            for chunk in _contents(e):
                if e.streamed_crc:
                    crc = zlib.crc32(chunk, crc)
                yield chunk
        if e.streamed_crc:
            yield _DATA_DESCRIPTOR.pack(0x08074B50, crc, e.size, e.size)
            if on_crc is not None:
                on_crc(e, crc)
        else:
            crc = e.crc32  # type: ignore[assignment]
        central.append(_central_header(e, crc, offset))
        offset += _local_size(e) + e.size
    cd = b"".join(central)
    yield cd
    yield _tail(len(entries), offset, len(cd))
