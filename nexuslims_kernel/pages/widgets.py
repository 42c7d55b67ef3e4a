"""The page's building blocks: a stylesheet, URL sync, cards and galleries, and escaped HTML helpers.

Cards and galleries are anywidgets whose JavaScript builds the DOM with
``textContent``: text from files and people can never become markup. Every
other piece of HTML is assembled here with :func:`esc` on each value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from nexuslims_kernel.catalog.html import esc

STATIC = Path(__file__).parent / "static"
#: the pages' one stylesheet, beside the Voilà template that also inlines it in the document head
CSS = Path(__file__).parent / "share" / "jupyter" / "voila" / "templates" / "nxhub" / "nxhub.css"


class Stylesheet(anywidget.AnyWidget):
    """Carries the pages' CSS into any Voilà template (anywidget puts ``_css`` in the document head)."""

    _esm = "export default { render({ el }) { el.style.display = 'none'; } };"
    _css = CSS.read_text(encoding="utf-8")


class UrlSync(anywidget.AnyWidget):
    """Set ``query`` and the browser's address bar shows it (``history.replaceState``)."""

    _esm = STATIC / "urlsync.js"
    query = traitlets.Unicode("").tag(sync=True)


class Cards(anywidget.AnyWidget):
    """Result cards (``layout="list"``) or a thumbnail gallery (``"grid"``).

    ``items``: ``[{"id", "title", "lines": [...], "tags": [...], "src", "href"}]``;
    without ``href`` a click sets ``selected`` to the item's id.
    """

    _esm = STATIC / "cards.js"
    items = traitlets.List([]).tag(sync=True)
    selected = traitlets.Int(-1).tag(sync=True)
    layout = traitlets.Unicode("list").tag(sync=True)
    empty_text = traitlets.Unicode("Nothing here.").tag(sync=True)


def close_tree(widget: Any) -> None:
    """Close a widget, its children and their layout and style models (``Widget.close`` closes one model)."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if part is not None:
            part.close()
    widget.close()


def safe_href(href: Any) -> str:
    """A link target, or ``#`` for script-bearing schemes (as ``safeHref`` in ``cards.js``)."""
    text = href if isinstance(href, str) else ""
    return "#" if re.match(r"\s*(javascript|data|vbscript):", text, re.IGNORECASE) or not text else text


def cards_html(items: list[dict[str, Any]], layout: str = "grid", empty_text: str = "Nothing here.") -> str:
    """What ``cards.js`` draws for ``items``, as escaped static HTML (a page's server-rendered first paint)."""
    out = []
    for item in items:
        src = safe_href(item.get("src"))
        thumb = (f'<div class="nx-thumb"><img decoding="async" alt="{esc(item.get("title"))}" src="{esc(src)}"></div>' if src != "#"
                 else '<div class="nx-thumb nx-thumb-missing"></div>')
        lines = "".join(f'<div class="nx-card-line">{esc(line)}</div>' for line in item.get("lines") or [])
        tags = "".join(f'<span class="nx-tag">{esc(tag)}</span>' for tag in item.get("tags") or [])
        out.append(f'<a class="nx-card" data-id="{esc(item.get("id"))}" href="{esc(safe_href(item.get("href")))}">{thumb}<div class="nx-card-body">'
                   f'<div class="nx-card-title">{esc(item.get("title"))}</div>{lines}<div class="nx-tags">{tags}</div></div></a>')
    body = "".join(out) or f'<div class="nx-empty">{esc(empty_text)}</div>'
    return f'<div class="nx-cards-host"><div class="nx-cards nx-layout-{esc(layout)}">{body}</div></div>'


def kv_table(rows: list[tuple[str, Any]]) -> str:
    """A two-column table; values may be (value, unit) pairs. Empty values are left out."""
    out = []
    for key, value in rows:
        unit = None
        if isinstance(value, tuple):
            value, unit = value
        if value in (None, "", [], {}):
            continue
        cell = esc(value) + (f'<span class="nx-unit">{esc(unit)}</span>' if unit else "")
        out.append(f"<tr><th>{esc(key)}</th><td>{cell}</td></tr>")
    return f'<table class="nx-kv">{"".join(out)}</table>'


def raw_tree(data: Any, name: str = "raw metadata", depth: int = 0, budget: list[int] | None = None) -> str:
    """Nested ``<details>`` for a vendor tree, escaped, cut off after a few thousand leaves."""
    budget = budget if budget is not None else [3000]
    if isinstance(data, dict) and depth < 12:
        inner = "".join(raw_tree(v, str(k), depth + 1, budget) for k, v in list(data.items())[:500])
        return f'<details class="nx-raw"{" open" if depth == 0 else ""}><summary>{esc(name)} ({len(data)})</summary>{inner}</details>'
    if isinstance(data, list) and depth < 12 and any(isinstance(v, (dict, list)) for v in data):
        inner = "".join(raw_tree(v, f"[{i}]", depth + 1, budget) for i, v in enumerate(data[:200]))
        return f'<details class="nx-raw"><summary>{esc(name)} [{len(data)}]</summary>{inner}</details>'
    budget[0] -= 1
    if budget[0] < 0:
        return ""
    text = str(data)
    return f'<div class="nx-leaf"><b>{esc(name)}</b>: {esc(text[:500] + ("…" if len(text) > 500 else ""))}</div>'


def topbar(active: str, who: str | None, links: dict[str, str]) -> str:
    items = "".join(f'<a href="{esc(href)}" class="{"nx-active" if name == active else ""}">{esc(name)}</a>' for name, href in links.items())
    user = f'<span class="nx-who">signed in as {esc(who)}</span>' if who else '<span class="nx-who">not signed in: public records only</span>'
    return f'<div class="nx-topbar"><span class="nx-brand">NexusLIMS Hub</span>{items}{user}</div>'
