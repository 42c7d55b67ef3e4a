"""The Record page (``?id=N``): summary, downloads, activity galleries paged, a dataset panel with metadata and spectra."""

from __future__ import annotations

import logging
from typing import Any

import ipywidgets as W

from nexuslims_kernel.catalog import CatalogError
from nexuslims_kernel.pages import notebook
from nexuslims_kernel.pages.context import PAGES, PageContext, show_page
from nexuslims_kernel.pages.text import names, quantity, size, span, when
from nexuslims_kernel.pages.widgets import Cards, Stylesheet, cards_html, esc, kv_table, raw_tree, topbar

log = logging.getLogger(__name__)
GALLERY_PAGE = 24
FIRST_ACTIVITIES = 8
SPECTRA = {"Spectrum", "SpectrumImage", "EELS", "EDS"}
NO_DATASET = '<div class="nx-section-title">Dataset</div><div class="nx-status">Select a thumbnail to see its metadata.</div>'


def summary_html(rec: dict[str, Any]) -> str:
    h, inst, acc = rec.get("header") or {}, rec.get("instrument") or {}, rec.get("access") or {}
    tz = inst.get("timezone")
    badge = ('<span class="nx-badge nx-public">public</span>' if acc.get("is_public")
             else '<span class="nx-badge nx-private">private</span>')
    where = " · ".join(x for x in (inst.get("display_name"), inst.get("location")) if x)
    project = h.get("project") or {}
    samples = ", ".join(s.get("name", "") if isinstance(s, dict) else str(s) for s in h.get("samples") or [])
    rows = [("Owner", acc.get("owner")), ("Group", acc.get("group")), ("Experimenters", names(h.get("experimenters"))),
            ("Project", " — ".join(x for x in (project.get("name"), project.get("title")) if x) if isinstance(project, dict) else project),
            ("Samples", samples), ("Motivation", h.get("motivation")), ("Notes", h.get("note")),
            ("Datasets", f"{rec.get('n_datasets', 0):,} in {len(rec.get('activities') or [])} activities"),
            ("Embargo until", when(acc.get("embargo_until"))), ("Built", when(rec.get("built_at"))), ("Record", f"nxhub-record-{rec['id']}")]
    warnings = "".join(f'<div class="nx-error">⚠ {esc(w)}</div>' for w in rec.get("warnings") or [])
    warnings += "".join(f'<div class="nx-error">⚠ fixity: {esc(f["relpath"])} is {esc(f["outcome"])} '  # admins only
                        f'(checked {esc(when(f["checked_at"]))})</div>' for f in rec.get("fixity") or [])
    return (f'<div class="nx-h1">{esc(rec.get("title"))}</div>'
            f'<div class="nx-sub">{badge}<span class="nx-badge">{esc(inst.get("name"))}</span>{esc(where)} · '
            f'{esc(span(rec.get("start"), rec.get("end"), tz))}</div>{kv_table(rows)}{warnings}')


class Gallery:
    """One activity's thumbnails, ``GALLERY_PAGE`` at a time."""

    def __init__(self, page: RecordPage, act: dict[str, Any]) -> None:
        self.page, self.act, self.offset = page, act, 0
        self.total = act.get("n_datasets", 0)
        self.cards = Cards(layout="grid", empty_text="No datasets.")
        self.cards.observe(lambda ch: page.select(ch["new"], self), "selected")
        self.status = W.HTML()
        self.prev, self.next = W.Button(description="‹ Previous"), W.Button(description="Next ›")
        self.prev.on_click(lambda _: self.turn(-1))
        self.next.on_click(lambda _: self.turn(+1))
        head = W.HTML(page.activity_head(act))
        pager = W.HBox([self.status, self.prev, self.next], layout=W.Layout(justify_content="flex-end", align_items="center"))
        pager.add_class("nx-pager")
        self.widget = W.VBox([head, self.cards, pager])
        self.widget.add_class("nx-activity")
        self.load()

    def turn(self, step: int) -> None:
        self.offset = max(0, min(self.offset + step * GALLERY_PAGE, max(0, self.total - 1) // GALLERY_PAGE * GALLERY_PAGE))
        self.load()

    def load(self) -> None:
        got = self.page.ctx.catalog.client.get(f"/records/{self.page.rec['id']}/datasets", activity=self.act["seq"],
                                               offset=self.offset, limit=GALLERY_PAGE)
        self.items = {d["id"]: d for d in got["items"]}
        self.cards.items = [self.page.tile(d) for d in got["items"]]
        last = self.offset + len(got["items"])
        self.status.value = f'<span class="nx-status">{self.offset + 1 if last else 0}–{last} of {self.total:,}</span>'
        self.prev.disabled = self.offset == 0
        self.next.disabled = last >= self.total
        self.prev.layout.display = self.next.layout.display = None if self.total > GALLERY_PAGE else "none"


class RecordPage:
    def __init__(self, ctx: PageContext) -> None:
        self.ctx = ctx
        self.galleries: list[Gallery] = []
        self.bar = bar = W.HTML(topbar("Records", ctx.username, PAGES))
        try:
            record_id = int(ctx.query.get("id", ""))
            self.rec = ctx.catalog.client.get(f"/records/{record_id}/outline")
        except (ValueError, CatalogError) as exc:
            msg = "No record id in the address (record.ipynb?id=N)." if isinstance(exc, ValueError) else "Record not found, or not yours to see."
            self.widget = W.VBox([Stylesheet(), bar, W.HTML(f'<div class="nx-panel nx-empty">{esc(msg)} <a href="browse.ipynb">Browse records</a></div>')])
            self.widget.add_class("nx-page")
            return
        self.notebook_out = W.HTML()
        open_nb = W.Button(description="Open in notebook", button_style="primary")
        open_nb.on_click(lambda _: self._open_notebook())
        self.summary_box = summary_box = W.HTML(summary_html(self.rec))
        summary_box.add_class("nx-summary")
        summary = W.VBox([summary_box,
                          W.HTML(self.downloads()),
                          W.HBox([open_nb, self.notebook_out], layout=W.Layout(align_items="center"))])
        summary.add_class("nx-panel")
        self.activities_box = W.VBox()
        self.more = W.Button(description="Show all activities")
        self.more.on_click(lambda _: self._show_activities(len(self.rec["activities"])))
        self.panel = W.VBox([W.HTML(NO_DATASET)])
        self.panel.add_class("nx-panel")
        left = W.VBox([self.activities_box, self.more], layout=W.Layout(flex="1 1 60%", min_width="0"))
        right = W.VBox([self.panel], layout=W.Layout(flex="0 0 40%", min_width="0", margin="16px 0 0 16px"))
        self.widget = W.VBox([Stylesheet(), bar, W.VBox([summary, W.HBox([left, right], layout=W.Layout(align_items="flex-start"))],
                                                       layout=W.Layout(padding="0 16px"))])
        self.widget.add_class("nx-page")
        self._show_activities(FIRST_ACTIVITIES)

    def downloads(self) -> str:
        rid = self.rec["id"]
        links = "".join(f'<a href="{esc(self.ctx.api(path))}" download>{esc(label)}</a>' for label, path in (
            ("All files (zip)", f"/records/{rid}/zip"), ("Nexus XML", f"/records/{rid}/export/xml"),
            ("JSON", f"/records/{rid}/export/json"), ("RO-Crate", f"/records/{rid}/export/rocrate"),
            (".eln (ELN)", f"/records/{rid}/export/eln")))
        return f'<div class="nx-facet-title">Downloads</div><div class="nx-downloads">{links}</div>'

    def activity_head(self, act: dict[str, Any]) -> str:
        tz = (self.rec.get("instrument") or {}).get("timezone")
        total = act.get("n_datasets", 0)
        setup = ", ".join(f"{k.replace('_', ' ')} {' '.join(x for x in quantity(v) if x)}" for k, v in list((act.get("setup") or {}).items())[:4])
        zip_link = self.ctx.api(f"/records/{self.rec['id']}/activities/{int(act['seq'])}/zip")
        return (f'<div class="nx-activity-head"><div><span class="nx-section-title">Activity {int(act["seq"])}</span> '
                f'<span class="nx-setup">{esc(span(act.get("start"), act.get("end"), tz))} · {total:,} dataset{"s" if total != 1 else ""}'
                f'{" · " + esc(setup) if setup else ""}</span></div>'
                f'<a class="nx-button" href="{esc(zip_link)}" download>Activity zip</a></div>')

    def prerender(self) -> str | None:
        """The page as static HTML, shown by the ``nxhub`` template the moment the document arrives.

        Voilà's front end needs about a second of scripts before widgets draw; this
        paints the summary, downloads and first thumbnails at once, and the
        stylesheet hides it when the live page (``.nx-page``) appears in its place.
        """
        if not hasattr(self, "rec"):
            return None
        galleries = "".join(f'<div class="nx-activity">{self.activity_head(g.act)}{cards_html(g.cards.items, "grid", g.cards.empty_text)}'
                            f'<div class="nx-static-pager">{g.status.value}</div></div>' for g in self.galleries)
        return (f'<div class="nx-prerender">{self.bar.value}<div style="padding:0 16px">'
                f'<div class="nx-panel"><div class="nx-summary">{self.summary_box.value}</div>{self.downloads()}'
                f'<span class="nx-static-button" aria-hidden="true">Open in notebook</span></div>'
                f'<div style="display:flex;align-items:flex-start"><div style="flex:1 1 60%;min-width:0">{galleries}</div>'
                f'<div class="nx-panel" style="flex:0 0 40%;min-width:0;margin:16px 0 0 16px">{NO_DATASET}</div></div></div></div>')

    def _show_activities(self, n: int) -> None:
        acts = self.rec.get("activities") or []
        for act in acts[len(self.galleries):n]:
            self.galleries.append(Gallery(self, act))
        self.activities_box.children = [g.widget for g in self.galleries]
        self.more.layout.display = None if len(self.galleries) < len(acts) else "none"

    def tile(self, d: dict[str, Any]) -> dict[str, Any]:
        shape = "×".join(str(n) for n in d.get("shape") or [])
        return {"id": d["id"], "title": d.get("name") or d.get("relpath"), "lines": [" · ".join(x for x in (d.get("dataset_type"), shape) if x)],
                "tags": [d.get("format") or "?"] + (["error"] if d.get("error") else []),
                "src": self.ctx.api(f"/datasets/{d['id']}/preview") if d.get("has_preview") else ""}

    def select(self, dataset_id: int, source: Gallery) -> None:
        if dataset_id < 0:
            return
        for g in self.galleries:
            if g is not source and g.cards.selected != -1:
                g.cards.selected = -1
        item = source.items.get(dataset_id, {})
        try:
            details = self.ctx.catalog.client.get(f"/datasets/{int(dataset_id)}")
        except CatalogError as exc:
            self.panel.children = [W.HTML(f'<span class="nx-error">{esc(exc)}</span>')]
            return
        self.panel.children = self.dataset_panel({**item, **details})
        if details.get("dataset_type") in SPECTRA or len(details.get("shape") or []) == 1:
            self._plot(details)

    def dataset_panel(self, d: dict[str, Any]) -> list[W.Widget]:
        meta = d.get("metadata") or {}
        rows = [(k.replace("_", " "), quantity(v)) for k, v in sorted(meta.items())]
        facts = [("Type", d.get("dataset_type")), ("Format", d.get("format")), ("Shape", " × ".join(map(str, d.get("shape") or []))),
                 ("Data type", d.get("dtype")), ("Acquired", when(d.get("acquired_at"), (self.rec.get("instrument") or {}).get("timezone"))), ("File", d.get("relpath")),
                 ("Size", size(d.get("file_size"))), ("Companions", ", ".join(d.get("companions") or [])), ("Error", d.get("error"))]
        did = int(d["id"])
        preview, file = self.ctx.api(f"/datasets/{did}/preview"), self.ctx.api(f"/datasets/{did}/file")
        img = (f'<div class="nx-thumb" style="width:100%;height:260px"><img alt="{esc(d.get("name"))}" src="{esc(preview)}"></div>'
               if d.get("has_preview") else "")
        links = f'<div class="nx-downloads" style="margin-top:8px"><a href="{esc(file)}" download>Download file</a></div>'
        raw = W.HTML()
        toggle = W.ToggleButton(description="Show raw vendor metadata", value=False, layout=W.Layout(width="auto", margin="10px 0 0 0"))

        def show_raw(change: dict[str, Any]) -> None:
            raw.value = raw_tree(d.get("raw_metadata") or {}) if change["new"] else ""
            toggle.description = "Hide raw vendor metadata" if change["new"] else "Show raw vendor metadata"

        toggle.observe(show_raw, "value")
        self.plot_box = W.VBox()
        head = W.HTML(f'<div class="nx-section-title">{esc(d.get("name"))}</div>{img}{links}')
        tables = W.HTML(f'{kv_table(facts)}<div class="nx-facet-title">Metadata (normalised)</div>'
                        f'{kv_table(rows) if rows else "<i>none</i>"}')
        return [head, self.plot_box, tables, toggle, raw]

    def _plot(self, details: dict[str, Any]) -> None:
        from nexuslims_kernel.pages.plots import spectrum_figure

        self.plot_box.children = [W.HTML('<div class="nx-status">Loading spectrum…</div>')]
        try:
            signal = self.ctx.catalog.dataset_of(self.rec, details).read(lazy=False)
            fig = spectrum_figure(signal, details.get("name") or "")
        except Exception as exc:  # a plot is a bonus: say why, keep the panel
            log.warning("spectrum %s: %s", details.get("id"), exc)
            self.plot_box.children = [W.HTML(f'<div class="nx-status">No plot: {esc(str(exc)[:200])}</div>')]
            return
        self.plot_box.children = [fig] if fig is not None else []

    def _open_notebook(self) -> None:
        try:
            self.notebook_out.value = notebook.open_link(self.rec["id"], self.rec.get("title") or "")
        except Exception as exc:  # network trouble talking to the notebook server
            self.notebook_out.value = f'<span class="nx-error">{esc(exc)}</span>'


def show(catalog: Any = None) -> RecordPage | None:
    """Build and display the page (the one cell of ``voila_apps/record.ipynb``)."""
    return show_page(RecordPage, catalog)
