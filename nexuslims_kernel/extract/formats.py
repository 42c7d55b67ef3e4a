"""The built-in extractors: one rosettasciio reader per EM format, plus a fallback.

Readers are called directly (``rsciio.<module>.file_reader``) rather than via
``hyperspy.load`` so that a worker imports only the reader it needs, and the
reader is always passed explicitly: ``.img``, ``.h5``, ``.csv`` and ``.tif``
are claimed by several readers and are told apart by the sniffers below.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from nexuslims_kernel.extract.registry import Extractor

Sniffer = Callable[[Path, bytes], "str | None"]

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _h5_keys(path: Path) -> tuple[list[str], dict[str, Any]]:
    """Top-level keys and attributes of an HDF5 file; every HDF5 sniffer asks, the file is opened once."""
    st = os.stat(path)
    return _h5_keys_of(os.fspath(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=8)
def _h5_keys_of(path: str, size: int, mtime_ns: int) -> tuple[list[str], dict[str, Any]]:
    import h5py

    with h5py.File(path, "r") as h5:
        return list(h5.keys()), dict(h5.attrs)


def _is_hdf5(head: bytes) -> bool:
    return head.startswith(HDF5_MAGIC)


def sniff_dm(path: Path, head: bytes) -> str | None:
    version = int.from_bytes(head[:4], "big") if len(head) >= 4 else 0
    return {3: "dm3", 4: "dm4"}.get(version)


def sniff_emd(path: Path, head: bytes) -> str | None:
    if not _is_hdf5(head):
        return None
    keys, attrs = _h5_keys(path)
    if "Version" in keys and "Data" in keys:
        return "emd-velox"
    if "4DSTEM_simulation" in keys:
        return "emd-prismatic"
    if "version_major" in attrs or "4DSTEM_experiment" in keys:
        return "emd-ncem"
    return "emd"


def sniff_arina(path: Path, head: bytes) -> str | None:
    if not _is_hdf5(head) or not path.stem.endswith("_master"):
        return None
    keys, _ = _h5_keys(path)
    return "arina" if keys == ["entry"] else None


def sniff_delmic(path: Path, head: bytes) -> str | None:
    if not _is_hdf5(head):
        return None
    keys, _ = _h5_keys(path)
    # Delmic numbers its groups (Acquisition0, Acquisition1 ...); Tofwerk's AcquisitionLog is not one
    return "delmic-h5" if any(k.startswith("Acquisition") and k[len("Acquisition"):].isdigit() for k in keys) else None


def sniff_hspy(path: Path, head: bytes) -> str | None:
    if not _is_hdf5(head):
        return None
    _, attrs = _h5_keys(path)
    fmt = attrs.get("file_format", b"")
    fmt = fmt.decode() if isinstance(fmt, bytes) else str(fmt)
    return "hspy" if fmt == "HyperSpy" else None


def sniff_usid(path: Path, head: bytes) -> str | None:
    if not _is_hdf5(head):
        return None
    keys, _ = _h5_keys(path)
    return "usid" if any(k.startswith("Measurement_") for k in keys) else None


def sniff_tofwerk(path: Path, head: bytes) -> str | None:
    if not _is_hdf5(head):
        return None
    keys, _ = _h5_keys(path)
    return "tofwerk" if "FullSpectra" in keys else None


def sniff_jeol(path: Path, head: bytes) -> str | None:
    ext = path.suffix.lower().lstrip(".")
    if ext == "img" and b"JED-2200" not in head[:64]:
        return None
    return {"asw": "asw", "img": "jeol-img", "map": "jeol-map", "pts": "pts", "eds": "jeol-eds"}[ext]


def sniff_hamamatsu(path: Path, head: bytes) -> str | None:
    return "hamamatsu-img" if head[:2] == b"IM" else None


def _first_line(head: bytes) -> str:
    return head.split(b"\n", 1)[0].decode("latin-1").strip()


def sniff_impulse(path: Path, head: bytes) -> str | None:
    return "impulse" if _first_line(head).startswith("TimeStamp,") else None


def sniff_protochips(path: Path, head: bytes) -> str | None:
    line = _first_line(head)
    return "protochips" if line.startswith("Time,") and "Notes" in line else None


def sniff_tiff(path: Path, head: bytes) -> str | None:
    return "tif" if head[:4] in TIFF_MAGICS else None


def sniff_mrc(path: Path, head: bytes) -> str | None:
    return "mrc-de" if de_info_file(path) is not None else "mrc"


def de_info_file(path: Path) -> Path | None:
    """The Direct Electron ``<prefix>_info.txt`` beside a ``<prefix>_movie.mrc``, if any."""
    stem = path.stem
    prefix = stem[: -len("_movie")] if stem.endswith("_movie") else stem
    info = path.with_name(prefix + "_info.txt")
    return info if info.is_file() else None


def _has_any(mapping: Any, keys: tuple[str, ...]) -> bool:
    return isinstance(mapping, dict) and any(k in mapping for k in keys)


def tiff_flavour(signals: list[dict[str, Any]]) -> str:
    """Name the TIFF flavour from the tags rosettasciio kept in original_metadata."""
    om: dict[str, Any] = {}
    for signal in signals:
        om.update(signal.get("original_metadata") or {})
    if "fei_metadata" in om:
        return "tif-fei"
    if "CZ_SEM" in om:
        return "tif-zeiss"
    if "Olympus_SIS_metadata" in om:
        return "tif-olympus-sis"
    if om.get("Make") == "JEOL Ltd.":
        return "tif-jeol-sightx"
    if str(om.get("Artist", "")).startswith("Copyright Hamamatsu"):
        return "tif-hamamatsu"
    if "tvips_metadata" in om or "TVIPS" in om or _has_any(om, ("37706",)):
        return "tif-tvips"
    if _has_any(om, ("65003", "65004", "65022", "65024")):
        return "tif-dm-export"
    return "tif"


@dataclass
class RsciioExtractor(Extractor):
    """Read one format with one rosettasciio reader module."""

    name: str = "rsciio"
    module: str = ""
    extensions: tuple[str, ...] = ()
    priority: int = 100
    lazy: bool = True
    sniffer: Sniffer | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)
    refiner: Callable[[list[dict[str, Any]]], str] | None = None

    def sniff(self, path: Path, head: bytes) -> str | None:
        if self.sniffer is None:
            return path.suffix.lower().lstrip(".") or self.name
        return self.sniffer(path, head)

    def read(self, path: Path, fmt: str) -> list[dict[str, Any]]:
        reader = importlib.import_module(f"rsciio.{self.module}").file_reader
        from nexuslims_kernel.extract.signals import finish_signal

        return [finish_signal(s) for s in reader(os.fspath(path), lazy=self.lazy, **self.kwargs)]

    def refine_format(self, fmt: str, signals: list[dict[str, Any]]) -> str:
        return self.refiner(signals) if self.refiner else fmt

    __hash__ = object.__hash__


class FallbackExtractor(Extractor):
    """Basic file facts for anything no reader claims (no signals, no preview)."""

    name = "fallback"
    priority = -1000
    extensions = ("*",)

    def sniff(self, path: Path, head: bytes) -> str | None:
        return "unknown"

    def read(self, path: Path, fmt: str) -> list[dict[str, Any]]:
        return [{"data": None, "axes": [], "metadata": {"General": {"title": path.stem}}, "original_metadata": {}}]


def _rs(name: str, module: str, exts: str, *, priority: int = 100, lazy: bool = True,
        sniffer: Sniffer | None = None, **kwargs: Any) -> RsciioExtractor:
    return RsciioExtractor(name=name, module=module, extensions=tuple(exts.split()), priority=priority,
                           lazy=lazy, sniffer=sniffer, kwargs=kwargs)


def builtin_extractors() -> list[Extractor]:
    """Every EM format rosettasciio reads, with the sniffers that disambiguate them."""
    tiff = _rs("tiff", "tiff", "tif tiff", sniffer=sniff_tiff)
    tiff.refiner = tiff_flavour
    return [
        _rs("digitalmicrograph", "digitalmicrograph", "dm3 dm4", sniffer=sniff_dm),
        _rs("tia", "tia", "emi ser"),
        _rs("emd", "emd", "emd de5", sniffer=sniff_emd),
        _rs("bruker", "bruker", "bcf spx"),
        _rs("edax", "edax", "spc spd"),
        _rs("msa", "msa", "msa ems mas emsa", lazy=False),
        tiff,
        _rs("mrc", "mrc", "mrc ali", sniffer=sniff_mrc),
        _rs("mrcz", "mrcz", "mrcz"),
        _rs("quantumdetector", "quantumdetector", "mib"),
        _rs("jeol", "jeol", "asw img map pts eds", sniffer=sniff_jeol),
        _rs("hamamatsu", "hamamatsu", "img", priority=90, sniffer=sniff_hamamatsu),
        _rs("blockfile", "blockfile", "blo"),
        _rs("tvips", "tvips", "tvips"),
        _rs("pantarhei", "pantarhei", "prz"),
        _rs("dens", "dens", "dens", lazy=False),
        _rs("impulse", "impulse", "csv", lazy=False, sniffer=sniff_impulse),
        _rs("protochips", "protochips", "csv", priority=90, lazy=False, sniffer=sniff_protochips),
        _rs("arina", "arina", "h5", priority=110, lazy=False, sniffer=sniff_arina),
        _rs("delmic", "delmic", "h5 hdf5", lazy=False, sniffer=sniff_delmic),
        _rs("hspy", "hspy", "hspy hdf5 h5", priority=95, sniffer=sniff_hspy),
        _rs("usid", "usid", "h5 hdf5", priority=80, sniffer=sniff_usid),
        _rs("tofwerk", "tofwerk", "h5", priority=80, sniffer=sniff_tofwerk),
        _rs("zspy", "zspy", "zspy"),
        _rs("phenom", "phenom", "elid", lazy=False),
        _rs("semper", "semper", "unf"),
        _rs("ripple", "ripple", "rpl"),
        _rs("nexus", "nexus", "nxs"),
        _rs("empad", "empad", "xml", priority=50),
        _rs("topspin", "topspin", "app5"),
        _rs("image", "image", "png bmp gif jpeg jpg", priority=10),
        FallbackExtractor(),
        *vendor_plugins(),  # also published as an entry point; listed here so an old install has them too
    ]


def vendor_plugins() -> list[Extractor]:
    from nexuslims_kernel.extract.vendors import plugins

    return plugins()
