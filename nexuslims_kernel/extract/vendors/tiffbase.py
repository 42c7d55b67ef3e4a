"""What every vendor-TIFF plugin shares: find the vendor tag, read pixels when they can be read.

A plugin names the private tag its vendor writes, parses that tag's text into
a tree and maps the tree to normalised fields with its spec table. The tag is
read from the TIFF header alone, so metadata survives what breaks the pixels:
strips cut off by a truncated copy (checked against the file size before any
pixel is touched) or a tag text that rosettasciio's parser refuses. Such a
dataset keeps its type and shape, gets no preview, and says why in a warning.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from nexuslims_kernel.extract.formats import TIFF_MAGICS
from nexuslims_kernel.extract.registry import Extractor
from nexuslims_kernel.extract.vendors.quantities import Spec, dotted, normalised_fields

VENDOR_TAGS = (34682, 50431, 51023, 65000)  # FEI/Thermo, Tescan, Fibics, Zeiss Orion


def tag_value(path: Path, code: int) -> Any:
    """The value of tag ``code`` on the first page, or None (header only, no pixels read).

    The vendor tags of a file are read once and cached by (path, size, mtime): every vendor
    plugin sniffs each TIFF, and the winner reads its tag again.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    if code not in VENDOR_TAGS:  # a third-party plugin's tag
        return _read_tags(os.fspath(path), (code,)).get(code)
    return _vendor_tags(os.fspath(path), st.st_size, st.st_mtime_ns).get(code)


@lru_cache(maxsize=8)
def _vendor_tags(path: str, size: int, mtime_ns: int) -> dict[int, Any]:
    return _read_tags(path, VENDOR_TAGS)


def _read_tags(path: str, codes: tuple[int, ...]) -> dict[int, Any]:
    import tifffile

    out: dict[int, Any] = {}
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages.first.tags
        for code in codes:
            tag = tags.get(code)
            if tag is None:
                continue
            if tag.dtype in (1, 2, 6, 7):  # bytes as written, not tifffile's interpretation (it may refuse edits)
                tif.filehandle.seek(tag.valueoffset)
                out[code] = tif.filehandle.read(tag.count)
            else:
                out[code] = tag.value
    return out


def _layout(path: Path) -> tuple[tuple[int, ...], str | None]:
    """(shape of the first page, why its pixels cannot be read or None)."""
    import tifffile

    size = os.path.getsize(path)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages.first
        shape = tuple(int(n) for n in page.shape)
        ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts)]
        if not ends or any(n == 0 for n in page.databytecounts):
            return shape, "the image has no pixel data"
        if max(ends) > size:
            return shape, f"the image data is cut off ({size} of {max(ends)} bytes present)"
    return shape, None


def _pixels(path: Path) -> Any:
    import tifffile

    data = tifffile.imread(path, key=0)
    return data[..., 0] if data.ndim == 3 and data.shape[-1] in (3, 4) else data


def _length_unit(metres: float) -> tuple[float, str]:
    value, unit = (metres / 1e-9, "nm") if abs(metres) < 1e-6 else (metres / 1e-6, "µm")
    return float(f"{value:.12g}"), unit


def _pixel_from_field_of_view(fields: dict[str, Any], shape: tuple[int, ...]) -> tuple[float, float] | None:
    """Square pixels of ``field_of_view`` (µm) over the image width, in metres."""
    fov = fields.get("field_of_view")
    if not isinstance(fov, dict) or len(shape) < 2 or not shape[1] or fov.get("unit") != "µm" or fov["value"] <= 0:
        return None
    size = fov["value"] * 1e-6 / shape[1]
    return size, size


def image_axes(shape: tuple[int, ...], pixel_size: tuple[float, float] | None) -> list[dict[str, Any]]:
    """y and x signal axes of a 2-D image, scaled when the vendor gives a pixel size (in metres)."""
    axes = []
    for name, size, i in (("y", shape[0], 1), ("x", shape[1], 0)):
        scale, units = _length_unit(pixel_size[i]) if pixel_size else (1.0, "")
        axes.append({"name": name, "size": size, "scale": scale, "offset": 0.0, "units": units, "navigate": False})
    return axes


class VendorTiffExtractor(Extractor):
    """Base of the vendor-TIFF plugins; subclasses set the tag, label and spec table and parse the text."""

    extensions = ("tif", "tiff")
    priority = 120
    tag: int = 0
    label: str = "tif"
    metadata_key: str = "vendor_metadata"
    table: dict[str, list[Spec]] = {}
    time_keys: tuple[str, ...] = ()  # (date key, time key) or (date-time key,)
    pixel_keys: tuple[str, str] | None = None  # (x, y) pixel size keys, in metres

    def accepts(self, value: Any) -> bool:
        return True

    def parse(self, value: Any) -> tuple[dict[str, Any], list[str]]:
        """(vendor tree, warnings) from the tag's value."""
        raise NotImplementedError

    def getter(self, raw: dict[str, Any], key: str) -> Any:
        return dotted(raw, key)

    def pixel_size(self, raw: dict[str, Any], fields: dict[str, Any]) -> tuple[float, float] | None:
        """(x, y) pixel size in metres from ``pixel_keys`` (y defaults to x), when the vendor records it."""
        if not self.pixel_keys:
            return None
        try:
            x = abs(float(self.getter(raw, self.pixel_keys[0])))
            y = abs(float(self.getter(raw, self.pixel_keys[1]) or x))
        except (TypeError, ValueError):
            return None
        return (x, y) if x > 0 and y > 0 else None

    def when(self, raw: dict[str, Any]) -> tuple[str | None, str | None]:
        """(date, time) of the acquisition from ``time_keys``: (date key, time key) or (one stamp key,)."""
        found = [self.getter(raw, key) for key in self.time_keys]
        values = [str(v[0] if isinstance(v, tuple) else v).strip() if v not in (None, "") else "" for v in found]
        if len(values) == 1 and values[0]:
            date, _, clock = values[0].replace("T", " ").partition(" ")
            return date, clock.strip() or None
        if len(values) == 2 and values[0]:
            return values[0], values[1] or None
        return None, None

    def extra_fields(self, raw: dict[str, Any], fields: dict[str, Any], shape: tuple[int, ...]) -> None:
        """Fields derived from several vendor values (in place); none by default."""

    def sniff(self, path: Path, head: bytes) -> str | None:
        if head[:4] not in TIFF_MAGICS:
            return None
        value = tag_value(path, self.tag)
        return self.label if value is not None and self.accepts(value) else None

    def read_pixels(self, path: Path) -> dict[str, Any]:
        """The signal rosettasciio makes of the file (lazy); plugins may swap the reader."""
        from rsciio.tiff import file_reader

        from nexuslims_kernel.extract.signals import finish_signal

        return finish_signal(file_reader(os.fspath(path), lazy=True)[0])

    def read(self, path: Path, fmt: str) -> list[dict[str, Any]]:
        raw, warnings = self.parse(tag_value(path, self.tag))
        shape, broken = _layout(path)
        fields = normalised_fields(raw, self.table, self.getter)
        self.extra_fields(raw, fields, shape)
        signal: dict[str, Any] | None = None
        if broken is None:
            try:
                signal = self.read_pixels(path)
            except Exception as exc:
                why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                warnings.append(f"rosettasciio could not read this file ({why}); pixels read with tifffile")
                signal = {"data": _pixels(path), "axes": [], "metadata": {}, "original_metadata": {}}
        else:
            warnings.append(f"the pixels could not be read: {broken}; metadata only, no preview")
            signal = {"data": None, "axes": [], "metadata": {}, "original_metadata": {}}
        pixel = self.pixel_size(raw, fields) or _pixel_from_field_of_view(fields, shape)
        if not signal["axes"] or (pixel and getattr(signal["data"], "ndim", 2) == 2):
            signal["axes"] = image_axes(shape, pixel)
        general = signal.setdefault("metadata", {}).setdefault("General", {})
        general.setdefault("title", path.stem)
        date, clock = self.when(raw)
        if date and not general.get("date"):
            general["date"] = date
            if clock:
                general["time"] = clock
        signal.setdefault("original_metadata", {}).setdefault(self.metadata_key, raw)
        signal["normalised"] = fields
        signal["warnings"] = warnings
        return [signal]
