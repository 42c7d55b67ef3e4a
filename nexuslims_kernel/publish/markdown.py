"""Record descriptions: Markdown in, HTML that is safe on any page out.

Rendered with markdown-it-py (raw HTML in the source is *not* passed through:
``html=False``) and then cleaned by nh3 with a short allow-list, so neither a
``<script>`` nor a ``javascript:`` link nor an ``onerror=`` attribute survives,
whatever the renderer does. The Markdown source is what is stored; the HTML is
made on read.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

MAX_DESCRIPTION = 20_000
TAGS = {"p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4",
        "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub"}
_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")


def to_html(source: str) -> str:
    """Sanitised HTML of a Markdown description."""
    return nh3.clean(_md.render(source or ""), tags=TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener")


def to_text(source: str) -> str:
    """The description as plain text (OAI-PMH, DataCite, search), tags stripped."""
    return " ".join(nh3.clean(_md.render(source or ""), tags=set()).split())
