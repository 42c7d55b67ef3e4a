"""Companion files: files read through a main file, never datasets of their own.

TIA ``<stem>_<n>.ser`` beside ``<stem>.emi``, Merlin ``.hdr`` beside ``.mib``,
Direct Electron ``<prefix>_info.txt`` / ``_scan_coordinates.csv`` beside
``<prefix>_movie.mrc``, ARINA data/scan files beside ``<prefix>_master.h5``,
Impulse ``<prefix>_Metadata.log`` beside its ``_Synchronized data.csv``,
Ripple ``<stem>.raw`` beside ``<stem>.rpl``, EDAX ``<stem>.ipr`` / ``.spc``
beside ``<stem>.spd``, TVIPS ``<stem>_001.tvips``... beside ``<stem>_000.tvips``, and
in a JEOL ``.ASW`` project: further element maps of a view beside its first
``.map``; the image and point spectra of a view without maps beside the
``.ASW`` that reads them as one sequence. A companion whose main file is not
in the list is treated as a main file itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

_SER = re.compile(r"^(?P<stem>.+)_\d+\.ser$", re.IGNORECASE)
_ARINA_DATA = re.compile(r"^(?P<prefix>.+)_data_\d+\.h5$")
_JEOL_VIEW_FILES = (".img", ".eds", ".map", ".pts")
_TVIPS_PART = re.compile(r"^(?P<stem>.+)_(?P<n>\d{3})\.tvips$", re.IGNORECASE)
# companion suffix -> main suffix, same stem (the main may not exist: then the file stands alone)
_SAME_STEM = {".raw": ".rpl", ".ipr": ".spd", ".hdr": ".mib"}


def _jeol_main(path: Path) -> Path | None:
    """The main file of a JEOL view file, or None when it is a main file itself."""
    suffix = path.suffix.lower()
    if suffix not in _JEOL_VIEW_FILES or path.parent.parent.name != "Sample":
        return None
    siblings = sorted(p for p in path.parent.iterdir() if p.suffix.lower() in _JEOL_VIEW_FILES)
    maps = [p for p in siblings if p.suffix.lower() == ".map"]
    if maps or any(p.suffix.lower() == ".pts" for p in siblings):
        return maps[0] if suffix == ".map" and path != maps[0] else None
    project = path.parent.parent.parent
    asw = sorted(p for p in project.glob("*") if p.suffix.lower() == ".asw")
    return asw[0] if asw else None


def main_of(path: str | os.PathLike[str]) -> Path | None:
    """The file that ``path`` is a companion of, by naming convention (may not exist)."""
    p = Path(path)
    name = p.name
    lower = name.lower()
    if m := _SER.match(name):
        return p.with_name(m["stem"] + ".emi")
    if p.suffix.lower() in _SAME_STEM:
        return _sibling(p, _SAME_STEM[p.suffix.lower()])
    if p.suffix.lower() == ".spc" and _sibling(p, ".spd").exists():  # an .spc alone is a spectrum
        return _sibling(p, ".spd")
    if (m := _TVIPS_PART.match(name)) and m["n"] != "000":
        return p.with_name(f"{m['stem']}_000{p.suffix}")
    for tail in ("_info.txt", "_scan_coordinates.csv"):
        if name.endswith(tail):
            movie = p.with_name(name[: -len(tail)] + "_movie.mrc")
            plain = p.with_name(name[: -len(tail)] + ".mrc")
            return plain if not movie.exists() and plain.exists() else movie
    if m := _ARINA_DATA.match(name):
        return p.with_name(m["prefix"] + "_master.h5")
    if lower.endswith(".h5") and not lower.endswith("_master.h5") and p.with_name(p.stem + "_master.h5").exists():
        return p.with_name(p.stem + "_master.h5")
    if name.endswith("_Metadata.log"):
        return p.with_name(name[: -len("_Metadata.log")] + "_Synchronized data.csv")
    try:
        return _jeol_main(p)
    except OSError:
        return None


def _sibling(path: Path, suffix: str) -> Path:
    """``path`` with ``suffix`` as it exists on disk in any usual letter case.

    Instrument PCs mix cases (``x.RAW`` beside ``x.rpl``); the same case as
    ``path`` is tried first, and returned when no variant exists.
    """
    same = path.with_suffix(suffix.upper() if path.suffix.isupper() else suffix.lower())
    for candidate in (same, path.with_suffix(suffix.lower()), path.with_suffix(suffix.upper()),
                      path.with_suffix(suffix[:2].upper() + suffix[2:].lower())):
        if candidate.exists():
            return candidate
    return same


def companions_of(path: str | os.PathLike[str]) -> list[str]:
    """Companion files of ``path`` that exist beside it on disk."""
    p = Path(path)
    try:
        candidates = [c for c in p.parent.iterdir() if c != p] if p.parent.is_dir() else []
        if p.suffix.lower() == ".asw":
            candidates += [c for c in (p.parent / "Sample").glob("*/*") if c.is_file()]
    except OSError:
        return []
    found = []
    for cand in candidates:
        main = main_of(cand)
        if main is not None and _same(main, p):
            found.append(str(cand))
    return sorted(found)


def _same(a: Path, b: Path) -> bool:
    return os.path.normcase(os.path.abspath(a)) == os.path.normcase(os.path.abspath(b))


def split_companions(paths: Iterable[str | os.PathLike[str]]) -> dict[str, list[str]]:
    """Map each main file to its companions among ``paths`` (in input order)."""
    items = [str(p) for p in paths]
    index = {os.path.normcase(os.path.abspath(p)): p for p in items}
    result: dict[str, list[str]] = {}
    attached: dict[str, str] = {}
    for p in items:
        main = main_of(p)
        key = os.path.normcase(os.path.abspath(main)) if main is not None else None
        if key is not None and key in index and index[key] != p:
            attached[p] = index[key]
    for p in items:
        if p not in attached:
            result.setdefault(p, [])
    for p, main in attached.items():
        while main in attached:  # a companion of a companion belongs to the top main
            main = attached[main]
        result.setdefault(main, []).append(p)
    return result
