"""HTML reprs for notebooks: small, escaped, thumbnails inline (the notebook's browser may hold no API credentials)."""

from __future__ import annotations

import base64
import html
from typing import Any

STYLE = ("<style>.nx-r{font-family:var(--jp-ui-font-family,sans-serif);font-size:13px}"
         ".nx-r table{border-collapse:collapse}.nx-r td,.nx-r th{padding:2px 8px;text-align:left;vertical-align:top}"
         ".nx-r th{color:#555;font-weight:600}.nx-r img{width:96px;height:96px;object-fit:contain;background:#111;"
         "border-radius:4px;margin:2px}.nx-r .t{font-size:15px;font-weight:600;margin:4px 0}</style>")


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def table(rows: list[tuple[str, Any]]) -> str:
    return "<table>" + "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows if v not in (None, "", [])) + "</table>"


def img(png: bytes | None, alt: str) -> str:
    if not png:
        return ""
    kind = "image/png" if png.startswith(b"\x89PNG") else "image/jpeg" if png.startswith(b"\xff\xd8") else None
    if kind is None:
        return ""
    return f'<img alt="{esc(alt)}" title="{esc(alt)}" src="data:{kind};base64,{base64.b64encode(png).decode()}">'


def block(title: str, rows: list[tuple[str, Any]], thumbs: list[str] | None = None) -> str:
    return f'<div class="nx-r">{STYLE}<div class="t">{esc(title)}</div>{table(rows)}<div>{"".join(thumbs or [])}</div></div>'
