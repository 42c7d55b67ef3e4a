"""Extract one file in this process: route, read lazily, normalise, preview.

No isolation here: :class:`~nexuslims_kernel.extract.pool.ExtractionPool`
runs this function in worker processes with time and memory limits. Every
failure becomes ``error`` on the result, with a one-line reason.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from nexuslims_kernel.extract.companions import companions_of
from nexuslims_kernel.extract.normalize import normalise
from nexuslims_kernel.extract.preview import preview_path, render
from nexuslims_kernel.extract.profiles import Profile, load_profiles, pick_profile
from nexuslims_kernel.extract.registry import REGISTRY, Extractor, Registry, read_head
from nexuslims_kernel.extract.results import DatasetResult, FileResult

DIRECTORY_FORMATS = {".zspy"}  # zarr stores are directories


def reason(exc: BaseException) -> str:
    """A one-line description of an exception."""
    if isinstance(exc, MemoryError):
        return "out of memory (the extraction memory limit was reached)"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _check_readable(path: Path) -> str | None:
    """Why ``path`` cannot be extracted at all, or None."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "file not found (deleted or moved)"
    except OSError as exc:
        return f"cannot stat file: {reason(exc)}"
    if path.is_dir():
        return None if path.suffix.lower() in DIRECTORY_FORMATS else "is a directory, not a file"
    if st.st_size == 0:
        return "empty file (0 bytes)"
    try:
        if path.is_dir():
            os.listdir(path)
            return None
        with open(path, "rb") as fh:
            fh.read(1)
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return f"cannot open file: {reason(exc)}"
    return None


def _dtype_name(data: Any) -> str:
    dtype = getattr(data, "dtype", None)
    if dtype is None:
        return ""
    names = getattr(dtype, "names", None)
    if names and set(names) >= {"R", "G", "B"}:
        return ("rgba" if "A" in names else "rgb") + str(dtype[names[0]].itemsize * 8)
    return dtype.str.lstrip("|<=") if dtype.byteorder not in (">",) else dtype.str


def _settings_defaults() -> tuple[int, Path | None]:
    from nexuslims_kernel.config import get_settings

    settings = get_settings().extract
    return settings.preview_size, settings.profiles_file


def _read_signals(path: Path, head: bytes, registry: Registry, result: FileResult) -> tuple[Extractor | None, list[dict[str, Any]]]:
    """Try the claiming extractors best first; the first that yields signals wins."""
    failures: list[tuple[str, str]] = []
    for extractor, label in registry.candidates(path, head):
        try:
            signals = extractor.read(path, label)
        except MemoryError as exc:
            failures.append((label, reason(exc)))
            break
        except Exception as exc:
            failures.append((label, reason(exc)))
            continue
        if not signals:
            failures.append((label, f"the {extractor.name} reader found no signals"))
            continue
        result.format = extractor.refine_format(label, signals)
        result.extractor = extractor.name
        if failures and extractor.priority < 0:  # only the fallback managed: the real readers failed
            label0, why = failures[0]
            result.format = label0
            result.error = f"truncated or corrupt {label0.upper()} file: {why}"
            return None, []
        if extractor.priority < 0:
            ext = path.suffix.lower().lstrip(".")
            if ext and any(e.priority >= 0 and e.claims(ext) for e in registry.extractors()):
                result.format = ext
                result.error = f"not a valid {ext.upper()} file: its content matches no reader for .{ext}"
                return None, []
            result.warnings.append("no extractor for this file type; basic file info only")
        return extractor, signals
    label0, why = failures[0] if failures else ("unknown", "no extractor claims this file")
    result.format = label0
    result.error = f"truncated or corrupt {label0.upper()} file: {why}"
    return None, []


def _dataset(index: int, signal: dict[str, Any], result: FileResult, profile: Profile | None,
             profiles: dict[str, Profile], preview_dir: Path | None, size: int) -> DatasetResult:
    from nexuslims_kernel.extract.sanitize import jsonable

    data = signal.get("data")
    # a plugin that could read the metadata but not the pixels gives data None with the axes it knows
    shape = getattr(data, "shape", None) or [a.get("size", 0) for a in signal.get("axes") or []]
    ds = DatasetResult(index=index, shape=[int(n) for n in shape], dtype=_dtype_name(data))
    try:
        metadata, kind, warnings = normalise(signal, mtime=result.mtime, profile_tz=profile.timezone if profile else None,
                                               fmt=result.format)
        if profile is None:
            matched = pick_profile(profiles, None, metadata)
            if matched is not None and matched.timezone:
                metadata, kind, warnings = normalise(signal, mtime=result.mtime, profile_tz=matched.timezone,
                                                       fmt=result.format)
            profile = matched
        if profile is not None:
            metadata = profile.apply(metadata)
        ds.metadata, ds.warnings = metadata, warnings
        ds.dataset_type = "Unknown" if data is None and not signal.get("axes") else kind
        ds.name = str(metadata.get("title") or Path(result.path).stem)
        ds.raw_metadata = jsonable(signal.get("original_metadata") or {})
    except Exception as exc:
        ds.error = f"cannot normalise metadata: {reason(exc)}"
        return ds
    if data is None:
        return ds
    try:  # rendering also proves the data is readable (lazy readers only parsed headers)
        draw = signal.get("preview")  # a plugin may draw its own (e.g. image + spectrum of a SIMS cube)
        img = draw(size) if callable(draw) else render(data, ds.metadata.get("axes", []), ds.dataset_type, size)
        if img is not None and preview_dir is not None:
            from nexuslims_kernel.extract.preview import _write

            ds.preview = _write(img, preview_path(preview_dir, result.path, index))
    except MemoryError as exc:
        ds.error = reason(exc)
    except Exception as exc:
        ds.error = f"cannot read data: {reason(exc)}"
    return ds


def _share_acquisition_time(datasets: list[DatasetResult]) -> None:
    """Signals of one file without a date of their own take the file's first dated signal's."""
    dated = next((d for d in datasets if d.metadata.get("acquisition_time_source") == "file"), None)
    if dated is None:
        return
    for ds in datasets:
        if ds.metadata.get("acquisition_time_source") == "mtime":
            ds.metadata["acquisition_time"] = dated.metadata["acquisition_time"]
            ds.metadata["acquisition_time_source"] = "file"
            ds.warnings = [w for w in ds.warnings if "using file modification time" not in w]
            ds.warnings.append(f"acquisition time taken from signal {dated.index} of the same file")


def extract_file(path: str | os.PathLike[str], preview_dir: Path | None = None, instrument: str | None = None,
                 preview_size: int | None = None, *, registry: Registry | None = None,
                 profiles: dict[str, Profile] | None = None, timezone: str | None = None) -> FileResult:
    """Metadata and previews of every signal in ``path``; never raises for a bad file.

    ``timezone`` is the instrument's zone for naive vendor times (a profile's
    ``timezone`` overrides it).
    """
    started = time.perf_counter()
    p = Path(path)
    result = FileResult(path=str(path))
    default_size, profiles_file = _settings_defaults()
    size = preview_size or default_size
    if profiles is None:
        profiles = load_profiles(profiles_file)
    problem = _check_readable(p)
    if problem is None:
        st = p.stat()
        result.size, result.mtime = st.st_size, st.st_mtime
        result.companions = companions_of(p)
        try:
            extractor, signals = _read_signals(p, read_head(p), registry or REGISTRY, result)
            profile = pick_profile(profiles, instrument, timezone=timezone)
            for i, signal in enumerate(signals):
                result.datasets.append(_dataset(i, signal, result, profile, profiles, preview_dir, size))
            _share_acquisition_time(result.datasets)
            if signals and all(d.error for d in result.datasets):
                result.error = f"no readable signal: {result.datasets[0].error}"
            del signals
        except MemoryError as exc:
            result.error = reason(exc)
    else:
        result.error = problem
        result.format = p.suffix.lower().lstrip(".") or "unknown"
    result.elapsed_s = round(time.perf_counter() - started, 4)
    return result
