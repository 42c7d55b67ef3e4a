"""Tofwerk fibTOF (plasma-FIB TOF-SIMS) HDF5, read lazily with h5py.

Layout TofDAQ writes (the parts used here): root attributes ``TofDAQ Version``,
``NbrWrites`` (depth slices), ``NbrSegments`` (scan rows), ``IonMode``;
groups ``FullSpectra``, ``TimingData``, ``AcquisitionLog/Log`` (a table whose
first ``timestring`` is ISO-8601 with offset), ``PeakData/PeakData``
(depth x y x x x peaks counts) with ``PeakData/PeakTable`` (``label``, ``mass``
...), and ``FIBParams`` attributes (``Voltage`` V, ``Current`` A, ``ViewField``
mm). Only peak-integrated files are claimed; raw event lists stay with
rosettasciio's reader. Among the ``.h5`` family the file is recognised by these
groups, not by its name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nexuslims_kernel.extract.formats import HDF5_MAGIC
from nexuslims_kernel.extract.registry import Extractor
from nexuslims_kernel.extract.vendors.quantities import Spec, normalised_fields

REQUIRED_GROUPS = ("FullSpectra", "TimingData", "AcquisitionLog", "PeakData")

# normalised field -> attribute ("group.attr" or "attr" on the root), with the unit TofDAQ writes
TOFWERK: dict[str, list[Spec]] = {
    "microscope": [("FIBParams.FibHardware", None), ("DAQ Hardware", None)],
    "software": [("TofDAQ Version", None)],
    "ion_polarity": [("IonMode", None)],
    "acceleration_voltage": [("FIBParams.Voltage", "V")],
    "beam_current": [("FIBParams.Current", "A")],
    "field_of_view": [("FIBParams.ViewField", "mm")],
}


def _text(value: Any) -> Any:
    value = np.asarray(value).flat[0] if np.ndim(value) else value
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8", "replace").strip()
    return value.item() if hasattr(value, "item") else value


def _attributes(h5: Any) -> dict[str, Any]:
    tree: dict[str, Any] = {k: _text(v) for k, v in h5.attrs.items()}
    for group in ("FIBParams", "FullSpectra", "TimingData"):
        if group in h5:
            tree[group] = {k: _text(v) for k, v in h5[group].attrs.items()}
    return tree


def _acquired(h5: Any) -> tuple[str | None, str | None, str | None]:
    """(date, time, zone) from the first acquisition-log entry."""
    import datetime as dt

    try:
        stamp = dt.datetime.fromisoformat(str(_text(h5["AcquisitionLog/Log"][0]["timestring"])))
    except Exception:
        return None, None, None
    offset = stamp.strftime("%z")
    zone = f"{offset[:3]}:{offset[3:]}" if offset else None
    return stamp.date().isoformat(), stamp.strftime("%H:%M:%S"), zone


class TofwerkSimsExtractor(Extractor):
    """Peak-integrated fibTOF files: one SpectrumImage (depth, y, x | m/z) with a two-part preview."""

    name = "tofwerk-sims"
    priority = 85  # before rosettasciio's tofwerk reader (80), which stays the reader of raw files
    extensions = ("h5", "hdf5")

    def sniff(self, path: Path, head: bytes) -> str | None:
        if not head.startswith(HDF5_MAGIC):
            return None
        import h5py

        with h5py.File(path, "r") as h5:
            ok = all(g in h5 for g in REQUIRED_GROUPS) and "TofDAQ Version" in h5.attrs and "PeakData/PeakData" in h5
        return "tofwerk-sims" if ok else None

    def read(self, path: Path, fmt: str) -> list[dict[str, Any]]:
        import dask.array as da
        import h5py

        h5 = h5py.File(path, "r")  # stays open while the lazy array is alive, as rosettasciio's lazy readers do
        peaks = h5["PeakData/PeakData"]
        table = h5["PeakData/PeakTable"][()]
        masses = np.asarray(table["mass"], dtype=float)
        labels = [str(_text(x)) for x in table["label"]] if "label" in (table.dtype.names or ()) else []
        raw = _attributes(h5)
        raw["PeakTable"] = [{"label": lab, "mass": float(m)} for lab, m in zip(labels, masses)]
        fields = normalised_fields(raw, TOFWERK, _attr)
        if labels:
            fields["ion_species"] = labels
        depth, ny, nx, npk = (int(n) for n in peaks.shape)
        fov = fields.get("field_of_view")
        pixel = fov["value"] / nx if fov else 1.0
        unit = "µm" if fov else ""
        axes = [
            {"name": "depth", "size": depth, "scale": 1.0, "offset": 0.0, "units": "", "navigate": True},
            {"name": "y", "size": ny, "scale": pixel, "offset": 0.0, "units": unit, "navigate": True},
            {"name": "x", "size": nx, "scale": pixel, "offset": 0.0, "units": unit, "navigate": True},
            {"name": "m/z", "size": npk, "axis": masses, "units": "Th", "navigate": False},
        ]
        data = da.from_array(peaks, chunks=(1, ny, nx, npk))
        date, clock, zone = _acquired(h5)
        general: dict[str, Any] = {"title": path.stem}
        if date:
            general.update({"date": date, "time": clock, **({"time_zone": zone} if zone else {})})
        warnings = [] if "FIBParams" in h5 else ["no FIBParams group: FIB voltage, current and pixel size unknown"]
        if not date:
            warnings.append("no readable AcquisitionLog entry: acquisition time not in the file")
        return [{
            "data": data, "axes": axes, "original_metadata": {"tofwerk": raw}, "normalised": fields,
            "warnings": warnings,
            "metadata": {"General": general, "Signal": {"signal_type": "FIB-SIMS"}},
            "preview": lambda size: sims_preview(data, masses, size), "_h5": h5,
        }]


def _attr(raw: dict[str, Any], key: str) -> Any:
    group, _, name = key.rpartition(".")
    node = raw.get(group) if group else raw
    return node.get(name) if isinstance(node, dict) else None


def sims_preview(data: Any, masses: np.ndarray, size: int) -> Any:
    """Total-ion image (all depths and masses) above the summed mass spectrum, in one thumbnail."""
    from PIL import Image

    from nexuslims_kernel.extract.preview import image_thumbnail, plot_thumbnail

    tic = np.asarray(data.sum(axis=(0, 3)).compute(scheduler="synchronous"), dtype=float)
    per_peak = np.asarray(data.sum(axis=(0, 1, 2)).compute(scheduler="synchronous"), dtype=float)
    lo, hi = float(masses.min()), float(masses.max())
    bins = max(64, size)
    spectrum = np.zeros(bins)
    where = np.clip(((masses - lo) / ((hi - lo) or 1) * (bins - 1)).round().astype(int), 0, bins - 1)
    np.add.at(spectrum, where, per_peak)
    axis = {"name": "m/z", "units": "Th", "scale": (hi - lo) / (bins - 1) if hi > lo else 1.0, "offset": lo}
    top = int(size * 0.6)
    canvas = Image.new("RGB", (size, size), (255, 255, 255))
    image = image_thumbnail(tic, top).convert("RGB")
    image.thumbnail((size, top))
    canvas.paste(image, ((size - image.width) // 2, 0))
    canvas.paste(plot_thumbnail(spectrum, axis, size, size - top), (0, top))
    return canvas
