"""Spectrum thumbnails a person can read: lines visible past the zero peak, labels outside the frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nexuslims_kernel.extract import extract_file
from nexuslims_kernel.extract.preview import plot_thumbnail

hs = pytest.importorskip("hyperspy.api")

W, H = 400, 266


def _eds(zero_peak: float = 1e6, line_keV: float = 6.4, line_height: float = 900.0) -> np.ndarray:
    x = np.arange(2048) * 0.01
    y = 5.0 + line_height * np.exp(-0.5 * ((x - line_keV) / 0.06) ** 2)
    y[:8] += zero_peak * np.exp(-0.5 * (x[:8] / 0.02) ** 2)
    return y


def _dark(img) -> np.ndarray:
    return np.asarray(img.convert("L")) < 128


def _frame(dark: np.ndarray) -> tuple[int, int, int, int]:
    """left, top, right, bottom of the plot frame: the longest dark row and column runs."""
    rows = np.where(dark.sum(axis=1) > dark.shape[1] * 0.6)[0]
    cols = np.where(dark.sum(axis=0) > dark.shape[0] * 0.5)[0]
    return int(cols.min()), int(rows.min()), int(cols.max()), int(rows.max())


def test_an_x_ray_line_fills_the_plot_though_the_zero_energy_peak_is_a_thousand_times_higher() -> None:
    axis = {"name": "Energy", "units": "keV", "scale": 0.01, "offset": 0.0}
    img = plot_thumbnail(_eds(), axis, W, H)
    rgb = np.asarray(img.convert("RGB")).astype(int)
    blue = (rgb[..., 2] > 150) & (rgb[..., 0] < 100)  # the plotted line
    left, top, right, bottom = _frame(_dark(img))
    x_line = round(left + (right - left) * 6.4 / (2047 * 0.01))
    column = blue[:, x_line - 2:x_line + 3].any(axis=1)
    highest = np.where(column)[0].min()
    assert highest < top + 0.3 * (bottom - top), "the 6.4 keV line is squashed by the zero-energy peak"


def test_labels_sit_outside_the_frame_and_the_y_axis_has_ticks() -> None:
    axis = {"name": "Energy", "units": "keV", "scale": 0.01, "offset": 0.0}
    dark = _dark(plot_thumbnail(_eds(), axis, W, H))
    left, top, right, bottom = _frame(dark)
    below = dark[bottom + 2:, left:right]
    text_rows = np.where(below.any(axis=1))[0]
    assert len(text_rows) and text_rows.max() + bottom + 2 < H - 1, "the axis label is cut at the image's edge"
    assert len(np.split(text_rows, np.where(np.diff(text_rows) > 1)[0] + 1)) >= 2  # tick labels, then the axis name
    left_margin = dark[top:bottom, :left - 4]
    label_rows = np.where(left_margin.any(axis=1))[0]
    groups = np.split(label_rows, np.where(np.diff(label_rows) > 2)[0] + 1) if len(label_rows) else []
    assert len(groups) >= 3, "the intensity axis has no tick labels"
    corner = dark[top + 2:top + 30, right - (right - left) // 3:right - 2]
    assert not corner.any(), "text is drawn inside the plot (where the old label sat)"


def test_an_eds_spectrum_file_gets_such_a_thumbnail(tmp_path: Path) -> None:
    s = hs.signals.Signal1D(_eds().astype("float32"))
    s.axes_manager[0].name, s.axes_manager[0].units, s.axes_manager[0].scale = "Energy", "keV", 0.01
    s.set_signal_type("EDS_TEM") if hasattr(s, "set_signal_type") else None
    path = tmp_path / "eds.hspy"
    s.save(path)
    res = extract_file(path, preview_dir=tmp_path / "previews")
    (ds,) = res.datasets
    assert ds.dataset_type == "Spectrum" and ds.preview
    from PIL import Image

    dark = _dark(Image.open(ds.preview))
    assert dark.shape[0] > 100 and dark[-(dark.shape[0] // 8):, :].any()  # the axis title is drawn below the plot
