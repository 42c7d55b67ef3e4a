"""ZIP64 for real: an archive over 4 GiB and one over 65,535 entries, read back by two implementations.

The large file is sparse (cheap on disk) and the archive is written sparse too (its data is zeros),
so the test costs seconds, not gigabytes.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
import zlib
from pathlib import Path

import pytest

from nexuslims_kernel.api.zipwriter import Entry, FileSpan, archive_size, generate

BIG = (4 << 30) + 12345  # past every 32-bit size and offset field


def _zeros_crc(size: int) -> int:
    block, crc = bytes(64 << 20), 0
    while size:
        n = min(size, len(block))
        crc = zlib.crc32(block[:n] if n < len(block) else block, crc)
        size -= n
    return crc


def _write(entries: list[Entry], out: Path) -> None:
    """The archive as the API sends it; spans of zero-filled files become holes in ``out``."""
    with open(out, "wb") as fh:
        for piece in generate(entries, spans=True):
            if isinstance(piece, FileSpan):
                fh.seek(piece.size, os.SEEK_CUR)
            else:
                fh.write(piece)
        fh.truncate()
    assert out.stat().st_size == archive_size(entries)


def _unzip_test(path: Path) -> str:
    check = subprocess.run(["unzip", "-tq", str(path)], capture_output=True, text=True, timeout=600)
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
    return check.stdout


@pytest.mark.slow
def test_an_archive_over_4_gib_reads_back_with_zipfile_and_unzip(tmp_path: Path) -> None:
    big = tmp_path / "tilt series.mrc"
    with open(big, "wb") as fh:
        fh.truncate(BIG)
    small = tmp_path / "notes.txt"
    small.write_text("after the big one: its offset needs ZIP64\n")
    entries = [Entry.from_file(str(big), "record/tilt series.mrc", crc32=_zeros_crc(BIG)),
               Entry.from_file(str(small), "record/notes.txt"),  # CRC computed while streaming, data descriptor
               Entry.from_bytes("record/record.json", b'{"id": 1}')]
    out = tmp_path / "record.zip"
    _write(entries, out)
    with zipfile.ZipFile(out) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        assert infos["record/tilt series.mrc"].file_size == BIG
        assert infos["record/notes.txt"].header_offset > 0xFFFFFFFF
        assert zf.read("record/notes.txt") == small.read_bytes()
        assert zf.read("record/record.json") == b'{"id": 1}'
    assert "No errors detected" in _unzip_test(out)  # Info-ZIP reads all 4 GiB and checks every CRC


@pytest.mark.slow
def test_an_archive_over_65535_entries_reads_back_with_zipfile_and_unzip(tmp_path: Path) -> None:
    n = 70_000
    entries = [Entry.from_bytes(f"activity-{i // 1000:03d}/frame-{i:05d}.txt", f"frame {i}\n".encode()) for i in range(n)]
    out = tmp_path / "many.zip"
    _write(entries, out)
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert len(names) == n and names[-1] == "activity-069/frame-69999.txt"
        assert zf.read("activity-065/frame-65535.txt") == b"frame 65535\n"
        assert zf.testzip() is None
    _unzip_test(out)
