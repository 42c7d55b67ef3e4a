"""Landing pages: one stable, JavaScript-free HTML page per record, with schema.org ``Dataset`` JSON-LD.

Served at ``<base>/records/<id>`` (the URL a DOI resolves to) to whoever may see the
record, so anonymous visitors see only public, unembargoed records and get 404 for
the rest. The page shows the latest curated version and names the published one.
Everything on it is escaped; the description is the sanitised HTML of
:mod:`.markdown`; the JSON-LD is for search engines (Google Dataset Search).
"""

from __future__ import annotations

import html
import json
from typing import Any

from nexuslims_kernel.config import Settings
from nexuslims_kernel.publish import datacite
from nexuslims_kernel.publish.markdown import to_text

CSS = """body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem;margin-bottom:.2rem}.meta{color:#555}.kw{display:inline-block;background:#eef;border-radius:.8rem;
padding:0 .6rem;margin:0 .3rem .3rem 0}.ds{display:inline-block;width:14rem;margin:0 1rem 1rem 0;vertical-align:top}
.ds img{width:14rem;height:10rem;object-fit:contain;background:#f4f4f4}.featured{outline:3px solid #c90}
.doi{background:#efe;padding:.5rem 1rem;border-left:4px solid #393}table{border-collapse:collapse}
td,th{padding:.2rem .8rem .2rem 0;text-align:left}"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def json_ld(data: dict[str, Any], settings: Settings, url: str, api: str) -> dict[str, Any]:
    """The schema.org ``Dataset`` description of a curated record."""
    cur = data["curation"]
    attrs = datacite.metadata(data, settings, url, doi=cur["doi"])
    inst = data.get("instrument", {})
    description = html.unescape(to_text(cur["description"])) if cur["description"] else ""
    if len(description) < 50:  # Google wants 50-5000 characters
        description = (f"{description} " if description else "") + (
            f"Electron microscopy session on {inst.get('display_name') or inst.get('name')}"
            f"{' from ' + data['start'][:10] if data.get('start') else ''}: {data['n_datasets']} datasets.")
    datasets = [d for a in data["activities"] for d in a["datasets"]]
    terms = {t["propertyID"]: t for d in datasets for t in d.get("glossary_terms", []) if isinstance(t, dict) and "propertyID" in t}
    out: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "@id": url,
        "name": data["title"],
        "description": description[:5000],
        "url": url,
        "identifier": [f"https://doi.org/{cur['doi']}"] if cur["doi"] else [data["pid"]],
        "keywords": cur["keywords"],
        "creator": [{"@type": "Person" if c.get("nameType") == "Personal" else "Organization", "name": c["name"]}
                    for c in attrs["creators"]],
        "publisher": {"@type": "Organization", "name": settings.publish.publisher},
        "includedInDataCatalog": {"@type": "DataCatalog", "name": f"{settings.publish.publisher} records"},
        "measurementTechnique": "Electron microscopy",
        "version": str(cur["version"]),
        "dateModified": data.get("updated_at"),
        "isAccessibleForFree": True,
        "encodingFormat": attrs.get("formats", []),
        "distribution": [
            {"@type": "DataDownload", "encodingFormat": "application/zip", "contentUrl": f"{api}/records/{data['id']}/zip"},
            {"@type": "DataDownload", "encodingFormat": "application/xml", "contentUrl": f"{api}/records/{data['id']}/export/xml"},
        ],
    }
    if data.get("start"):
        out["temporalCoverage"] = f"{data['start']}/{data['end']}" if data.get("end") else data["start"]
    if cur["published_at"]:
        out["datePublished"] = cur["published_at"]
    if terms:
        out["variableMeasured"] = [dict(t) for _k, t in sorted(terms.items())]
    return {k: v for k, v in out.items() if v not in (None, [], "")}


def render(data: dict[str, Any], settings: Settings, url: str, api: str, versions: list[dict[str, Any]]) -> str:
    """The landing page's HTML (no script runs on it: the only ``<script>`` is JSON-LD data)."""
    cur, rid = data["curation"], data["id"]
    ld = json.dumps(json_ld(data, settings, url, api), ensure_ascii=True).replace("<", "\\u003c")
    creators = ", ".join(_e(c["name"]) for c in datacite.metadata(data, settings, url)["creators"])
    inst = data["instrument"]
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">', '<link rel="icon" href="data:,">',
        f"<title>{_e(data['title'])}</title>", f'<link rel="canonical" href="{_e(url)}">',
        f"<style>{CSS}</style>", f'<script type="application/ld+json">{ld}</script>', "</head><body>",
        f"<h1>{_e(data['title'])}</h1>",
        f'<p class="meta">{creators} · {_e(inst.get("display_name") or inst.get("name"))} · '
        f"{_e((data.get('start') or '')[:10])} · {data['n_datasets']} datasets · version {cur['version']}</p>",
    ]
    if cur["doi"]:
        doi_url = f"https://doi.org/{cur['doi']}"
        parts.append(f'<p class="doi">DOI <a href="{_e(doi_url)}">{_e(cur["doi"])}</a> — published version '
                     f"{cur['published_version']}; this page shows the latest version ({cur['version']}).</p>")
    if cur["keywords"]:
        parts.append("<p>" + "".join(f'<span class="kw">{_e(k)}</span>' for k in cur["keywords"]) + "</p>")
    if cur["rating"]:
        parts.append(f'<p class="meta">Owner\'s rating: {"★" * cur["rating"]}{"☆" * (5 - cur["rating"])}</p>')
    if cur["description_html"]:
        parts.append(f'<section class="description">{cur["description_html"]}</section>')
    parts.append(f'<p><a href="{_e(api)}/records/{rid}/zip">Download all files (zip)</a> · '
                 f'<a href="{_e(api)}/records/{rid}/export/xml">Nexus XML</a> · '
                 f'<a href="{_e(api)}/records/{rid}/export/json">JSON</a> · '
                 f'<a href="{_e(api)}/records/{rid}/export/rocrate">RO-Crate</a></p>')
    datasets = [d for a in data["activities"] for d in a["datasets"]]
    datasets.sort(key=lambda d: not d.get("featured"))  # featured first, else acquisition order
    parts.append("<h2>Datasets</h2><div>")
    for d in datasets:
        img = (f'<img alt="preview of {_e(d["name"])}" src="{_e(api)}/datasets/{d["id"]}/preview">'
               if d.get("preview") else "")
        caption = f"<br>{_e(d['caption'])}" if d.get("caption") else ""
        parts.append(f'<div class="ds{" featured" if d.get("featured") else ""}">{img}<br>'
                     f'<a href="{_e(api)}/datasets/{d["id"]}/file">{_e(d["name"])}</a> '
                     f'<span class="meta">{_e(d.get("dataset_type"))}</span>{caption}</div>')
    parts.append("</div>")
    if versions:
        parts.append("<h2>Versions</h2><table><tr><th>Version</th><th>When</th><th>Who</th><th>Changed</th></tr>")
        for v in versions:
            mark = " (published)" if v["published"] else ""
            parts.append(f"<tr><td>{v['version']}{mark}</td><td>{_e(v['created_at'][:19])}</td><td>{_e(v['created_by'])}</td>"
                         f"<td>{_e(', '.join(sorted(v['diff'])))}</td></tr>")
        parts.append("</table>")
    cite = f"{creators} ({_e((cur['published_at'] or data.get('start') or '')[:4])}). {_e(data['title'])}. " \
           f"{_e(settings.publish.publisher)}. " + (f"https://doi.org/{_e(cur['doi'])}" if cur["doi"] else _e(url))
    parts += [f'<h2>Cite as</h2><p class="meta">{cite}</p>', "</body></html>"]
    return "\n".join(parts)
