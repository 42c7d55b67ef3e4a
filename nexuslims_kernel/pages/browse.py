"""The Browse page: search box, facets with counts, result cards with thumbnails, cursor pagination.

The address bar mirrors the search (``?q=…&instrument=…``), so a search can be
bookmarked and shared; opening such a URL restores it.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import ipywidgets as W

from nexuslims_kernel.catalog import CatalogError
from nexuslims_kernel.pages.context import PAGES, PageContext, show_page
from nexuslims_kernel.pages.text import when
from nexuslims_kernel.pages.widgets import Cards, Stylesheet, UrlSync, close_tree, esc, topbar

PAGE_SIZE = 20
#: URL/API parameter -> facet name in the API's facet answer, and its label
FACETS = {"instrument": ("instrument", "Instrument"), "user": ("owner", "Owner"), "dataset_type": ("dataset_type", "Dataset type"),
          "format": ("format", "File format")}
URL_KEYS = ("q", *FACETS, "from", "to")


class BrowsePage:
    def __init__(self, ctx: PageContext) -> None:
        self.ctx = ctx
        self.params: dict[str, str] = {k: v for k, v in ctx.query.items() if k in URL_KEYS and v}
        self.cursors: list[str | None] = [None]
        self.next_cursor: str | None = None
        self.total = 0
        self.search = W.Text(value=self.params.get("q", ""), placeholder="Search titles, samples, people, notes…",
                             continuous_update=True, layout=W.Layout(width="100%"))
        self.search.add_class("nx-search")
        self.search.observe(self._on_search, "value")
        self.date_from = W.Text(value=self.params.get("from", ""), placeholder="from 2026-01-31", tooltip="first day, YYYY-MM-DD", continuous_update=False,
                                layout=W.Layout(width="112px"))
        self.date_to = W.Text(value=self.params.get("to", ""), placeholder="to 2026-12-31", tooltip="last day, YYYY-MM-DD", continuous_update=False,
                              layout=W.Layout(width="112px"))
        for box, key in ((self.date_from, "from"), (self.date_to, "to")):
            box.observe(lambda ch, key=key: self._set(key, ch["new"].strip()), "value")
        self.facets_box = W.VBox()
        self.status = W.HTML()
        self.status.add_class("nx-status")
        self.results = Cards(layout="list", empty_text="No records match this search.")
        self.prev = W.Button(description="← Newer", disabled=True)
        self.next = W.Button(description="Older →", disabled=True)
        self.prev.on_click(lambda _: self._turn(-1))
        self.next.on_click(lambda _: self._turn(+1))
        clear = W.Button(description="Clear all filters", layout=W.Layout(width="100%", margin="14px 0 0 0"))
        clear.on_click(lambda _: self._clear())
        self.url = UrlSync()
        dates = W.VBox([W.HTML('<div class="nx-facet-title">Session date</div>'), W.HBox([self.date_from, self.date_to])])
        sidebar = W.VBox([self.facets_box, dates, clear], layout=W.Layout(width="270px", min_width="270px"))
        sidebar.add_class("nx-panel")
        sidebar.add_class("nx-sidebar")
        pager = W.HBox([self.prev, self.next], layout=W.Layout(justify_content="flex-end", margin="12px 0 0 0"))
        pager.add_class("nx-pager")
        main = W.VBox([self.search, self.status, self.results, pager])
        main.add_class("nx-main")
        self.widget = W.VBox([Stylesheet(), W.HTML(topbar("Records", ctx.username, PAGES)),
                              W.HBox([sidebar, main], layout=W.Layout(align_items="flex-start", padding="0 16px")), self.url])
        self.widget.add_class("nx-page")
        self.refresh()

    # -- state changes --

    def _on_search(self, change: dict[str, Any]) -> None:
        self._set("q", change["new"].strip())

    def _set(self, key: str, value: str | None) -> None:
        if (self.params.get(key) or "") == (value or ""):
            return
        if value:
            self.params[key] = value
        else:
            self.params.pop(key, None)
        self.refresh()

    def _clear(self) -> None:
        self.params = {}  # emptied first, so the boxes' own change events below find nothing to change
        for box in (self.search, self.date_from, self.date_to):
            box.value = ""
        self.refresh()

    def _turn(self, step: int) -> None:
        if step > 0 and self.next_cursor:
            self.cursors.append(self.next_cursor)
        elif step < 0 and len(self.cursors) > 1:
            self.cursors.pop()
        self._load_page()

    # -- loading --

    def refresh(self) -> None:
        """A new search: facets, first page, the URL."""
        self.cursors = [None]
        self.url.query = urllib.parse.urlencode({k: self.params[k] for k in URL_KEYS if k in self.params})
        try:
            facets = self.ctx.catalog.client.get("/records/facets", **self.params)
        except CatalogError as exc:
            self.status.value = f'<span class="nx-error">{esc(exc)}</span>'
            self.results.items = []
            return
        self.total = facets.get("total", 0)
        self._draw_facets(facets.get("facets", {}))
        self._load_page()

    def _load_page(self) -> None:
        try:
            got = self.ctx.catalog.client.get("/records", **self.params, limit=PAGE_SIZE, cursor=self.cursors[-1])
        except CatalogError as exc:
            self.status.value = f'<span class="nx-error">{esc(exc)}</span>'
            return
        self.next_cursor = got.get("next_cursor")
        items = got.get("items", [])
        first = (len(self.cursors) - 1) * PAGE_SIZE
        shown = f"{first + 1}–{first + len(items)} of " if items else ""
        self.status.value = f"{esc(shown)}<b>{self.total:,}</b> record{'s' if self.total != 1 else ''}"
        self.results.items = [self.card(r) for r in items]
        self.prev.disabled = len(self.cursors) <= 1
        self.next.disabled = not self.next_cursor

    def card(self, r: dict[str, Any]) -> dict[str, Any]:
        access = "public" if r.get("is_public") else (f"group {r['group']}" if r.get("group") else "private")
        n = r.get("n_datasets") or 0
        return {
            "id": r["id"], "title": r.get("title") or f"Record {r['id']}",
            "lines": [" · ".join(x for x in (r.get("instrument"), r.get("owner"), when(r.get("start"))) if x),
                      f"{n} dataset{'s' if n != 1 else ''}"],
            "tags": [access], "src": self.ctx.api(f"/records/{r['id']}/preview") if n else "",
            "href": f"record.ipynb?id={int(r['id'])}",
        }

    def _draw_facets(self, facets: dict[str, list[dict[str, Any]]]) -> None:
        sections = []
        for param, (name, label) in FACETS.items():
            values = facets.get(name) or []
            chosen = self.params.get(param)
            if chosen and not any(str(v["value"]) == chosen for v in values):
                values = [{"value": chosen, "count": 0}, *values]
            if not values:
                continue
            buttons = []
            for v in values[:12]:
                value = str(v["value"])
                btn = W.Button(description=f"{value}  ·  {v['count']:,}", tooltip=value, layout=W.Layout(width="100%"))
                btn.add_class("nx-facet-btn")
                if value == chosen:
                    btn.add_class("nx-on")
                btn.on_click(lambda _, p=param, val=value: self._set(p, None if self.params.get(p) == val else val))
                buttons.append(btn)
            sections.append(W.VBox([W.HTML(f'<div class="nx-facet-title">{esc(label)}</div>'), *buttons]))
        old, self.facets_box.children = self.facets_box.children, sections
        for box in old:  # each search draws new buttons: free the old ones in the kernel and the browser
            close_tree(box)


def show(catalog: Any = None) -> BrowsePage | None:
    """Build and display the page (the one cell of ``voila_apps/browse.ipynb``)."""
    return show_page(BrowsePage, catalog)
