"""Spectra as interactive bqplot figures (pan and zoom) on their calibrated energy axis."""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import numpy as np

MAX_POINTS = 8192


def spectrum_figure(signal: Any, title: str = "") -> W.Widget | None:
    """A line plot of a 1-D signal (summed over navigation axes), or None for anything else."""
    import bqplot as bq

    am = signal.axes_manager
    if am.signal_dimension != 1:
        return None
    if am.navigation_dimension:
        signal = signal.sum(am.navigation_axes)
    if getattr(signal, "_lazy", False):
        signal.compute()
    axis = signal.axes_manager.signal_axes[0]
    x, y = np.asarray(axis.axis, dtype=float), np.asarray(signal.data, dtype=float)
    step = max(1, len(x) // MAX_POINTS)
    xs, ys = bq.LinearScale(), bq.LinearScale()
    line = bq.Lines(x=x[::step], y=y[::step], scales={"x": xs, "y": ys}, colors=["#1f5fa8"], stroke_width=1.3)
    units = f" ({axis.units})" if axis.units and str(axis.units) != "<undefined>" else ""
    ax = bq.Axis(scale=xs, label=f"{axis.name or 'axis'}{units}", grid_lines="solid")
    ay = bq.Axis(scale=ys, side="left", label="intensity", tick_format=".2s", grid_lines="solid")
    fig = bq.Figure(marks=[line], axes=[ax, ay], title=title, interaction=bq.interacts.PanZoom(scales={"x": [xs], "y": [ys]}),
                    layout=W.Layout(width="100%", height="320px"), fig_margin={"top": 30, "bottom": 45, "left": 60, "right": 15},
                    animation_duration=0)
    fig.add_class("nx-spectrum")
    return fig
