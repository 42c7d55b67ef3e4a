"""The instrument dashboard (administrators): sessions and hours per week, files and GB per week, build health."""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from nexuslims_kernel.catalog import CatalogError
from nexuslims_kernel.pages.context import PAGES, PageContext, show_page
from nexuslims_kernel.pages.text import when
from nexuslims_kernel.pages.widgets import Stylesheet, esc, topbar

CHARTS = (("sessions", "Sessions per week", "", 1), ("hours", "Instrument hours per week", "h", 1),
          ("files", "Files per week", "", 1), ("bytes", "Data per week", "GB", 0))
COLOURS = ["#1f5fa8", "#e07b39", "#3a9e6f", "#8c5bb5", "#c23b4b", "#5a6b7d"]


def bar_chart(title: str, weeks: list[str], series: dict[str, list[float]], unit: str) -> W.Widget:
    """Stacked weekly bars per instrument (bqplot: hover shows the value)."""
    import bqplot as bq

    xs, ys = bq.OrdinalScale(), bq.LinearScale(min=0)
    names = list(series)
    bars = bq.Bars(x=[w[5:] for w in weeks], y=[series[n] for n in names] if names else [[0] * len(weeks)], scales={"x": xs, "y": ys},
                   type="stacked", colors=COLOURS[: max(1, len(names))], labels=names, display_legend=len(names) > 1,
                   tooltip=bq.Tooltip(fields=["x", "y"], labels=["week", unit or "count"]))
    ax = bq.Axis(scale=xs, tick_rotate=-45, tick_style={"font-size": "10px"})
    ay = bq.Axis(scale=ys, side="left", label=unit, tick_format=",.2~f", grid_lines="solid")
    fig = bq.Figure(marks=[bars], axes=[ax, ay], title=title, layout=W.Layout(width="100%", height="280px"),
                    fig_margin={"top": 40, "bottom": 50, "left": 55, "right": 15}, legend_location="top-left", animation_duration=0)
    fig.add_class("nx-chart")
    return fig


def failed_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return '<div class="nx-status">No failed sessions. Every session in the window built or is waiting.</div>'
    body = "".join(f"<tr><td>{int(r['session_id'])}</td><td>{esc(r['instrument'])}</td><td>{esc(r.get('user'))}</td>"
                   f"<td>{esc(when(r.get('start')))}</td><td><span class='nx-badge nx-private'>{esc(r['status'])}</span></td>"
                   f"<td>{esc(r.get('reason'))}</td><td>{int(r.get('attempts') or 0)}</td></tr>" for r in rows)
    head = "".join(f"<th>{h}</th>" for h in ("Session", "Instrument", "User", "Start", "Status", "Why", "Tries"))
    return f'<table class="nx-table"><tr>{head}</tr>{body}</table>'


class InstrumentDashboard:
    def __init__(self, ctx: PageContext) -> None:
        self.ctx = ctx
        bar = W.HTML(topbar("Instruments", ctx.username, PAGES))
        if not ctx.is_admin:
            self.widget = W.VBox([Stylesheet(), bar, W.HTML('<div class="nx-panel nx-empty">The instrument dashboard is for '
                                                            'facility administrators.</div>')])
            self.widget.add_class("nx-page")
            return
        instruments = [i["name"] for i in ctx.catalog.client.get("/admin/instruments").get("items", [])]
        self.instrument = W.Dropdown(options=[("All instruments", "")] + [(n, n) for n in instruments],
                                     value=ctx.query.get("instrument", "") if ctx.query.get("instrument") in instruments else "",
                                     description="Instrument")
        self.weeks = W.Dropdown(options=[("8 weeks", 8), ("12 weeks", 12), ("26 weeks", 26), ("52 weeks", 52)], value=12, description="Window")
        for w in (self.instrument, self.weeks):
            w.observe(lambda _: self.refresh(), "value")
        self.status = W.HTML()
        self.charts = W.GridBox(layout=W.Layout(grid_template_columns="repeat(2, minmax(0, 1fr))", grid_gap="12px"))
        self.failed = W.HTML()
        controls = W.HBox([self.instrument, self.weeks])
        health = W.VBox([W.HTML('<div class="nx-section-title">Build health</div>'), self.status, self.failed])
        health.add_class("nx-panel")
        self.widget = W.VBox([Stylesheet(), bar, W.VBox([controls, self.charts, health], layout=W.Layout(padding="0 16px"))])
        self.widget.add_class("nx-page")
        self.refresh()

    def refresh(self) -> None:
        try:
            data = self.ctx.catalog.client.get("/admin/stats", weeks=self.weeks.value, instrument=self.instrument.value or None)
        except CatalogError as exc:
            self.status.value = f'<span class="nx-error">{esc(exc)}</span>'
            return
        per = data["instruments"]
        charts = []
        for key, title, unit, scale in CHARTS:
            if not scale:  # bytes: the largest unit that keeps the tallest bar at 1 or more
                peak = max((sum(v) for v in zip(*(p[key] for p in per.values()))), default=0)
                scale, unit = next(((f, u) for f, u in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")) if peak >= f), (1, "bytes"))
            series = {name: [v / scale for v in values[key]] for name, values in per.items()}
            box = W.VBox([bar_chart(title, data["weeks"], series, unit)])
            box.add_class("nx-panel")
            charts.append(box)
        self.charts.children = charts
        badges = "".join(f'<span class="nx-badge {"nx-private" if s in ("ERROR", "NO_FILES", "NO_CONSENT") else "nx-public" if s == "COMPLETED" else ""}">'
                         f"{esc(s)} · {int(n):,}</span>" for s, n in data["status"].items())
        self.status.value = f'<div style="margin-bottom:10px">{badges}</div>'
        self.failed.value = failed_table(data["failed"])


def show(catalog: Any = None) -> InstrumentDashboard | None:
    """Build and display the page (the one cell of ``voila_apps/instrument.ipynb``)."""
    return show_page(InstrumentDashboard, catalog)
