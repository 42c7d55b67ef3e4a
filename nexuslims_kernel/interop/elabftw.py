"""Hand a record to eLabFTW (API v2): one experiment per record, with the record's ``.eln`` attached.

Calls: ``POST api/v2/experiments`` (``title``, ``body``, ``tags``; 201 with a ``Location``
ending in the new id), ``PATCH api/v2/experiments/<id>``, ``GET api/v2/experiments?q=``,
``GET``/``POST api/v2/experiments/<id>/uploads`` (multipart ``file``) and ``POST
…/uploads/<upload id>`` to replace a file; the API key goes bare in ``Authorization``.
Which experiment holds which record is remembered per eLabFTW URL, so publishing again
updates it and replaces the ``.eln``. The body names the record (``NexusLIMS Hub record
<id>``): before a create is retried, eLabFTW is searched for it, so a create whose answer
was lost is adopted, never duplicated.
"""

from __future__ import annotations

import dataclasses
import html
import io
from pathlib import Path
from typing import Any

from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.interop.rest import PublishError, RestClient, meta_key, remember, remembered

API = "api/v2/experiments"


@dataclasses.dataclass
class ElabPublished:
    record_id: int
    experiment_id: str
    url: str
    action: str  # created | updated | adopted
    upload: str  # attached | replaced
    attempts: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ElabClient(RestClient):
    def __init__(self, base_url: str, api_key: str, **kwargs: Any) -> None:
        if not api_key:
            raise InvalidInputError("no eLabFTW API key: set NXHUB_ELABFTW_TOKEN (or NexusLIMS's NX_ELABFTW_API_KEY)")
        super().__init__("eLabFTW", base_url, {"Authorization": api_key}, **kwargs)

    def find(self, marker: str) -> str | None:
        """The experiment whose body carries ``marker`` (a create whose answer was lost), if any."""
        resp = self.once("GET", API, params={"q": marker, "limit": 50})
        if isinstance(resp, Exception) or resp.status_code != 200:
            return None
        return next((str(e["id"]) for e in resp.json() if marker in (e.get("body") or "")), None)


def marker(record_id: int) -> str:
    return f"NexusLIMS Hub record {record_id}"


def summary_html(data: dict[str, Any]) -> str:
    """The experiment's body: what the record is, where the files are, and the marker that finds it again."""
    header = data.get("header") or {}
    inst = data.get("instrument") or {}
    people = ", ".join(p.get("name") or p.get("username") or "" for p in header.get("experimenters") or [])
    rows = [("Instrument", inst.get("display_name") or inst.get("name")), ("Start", data.get("start")),
            ("End", data.get("end")), ("Experimenters", people), ("Motivation", header.get("motivation")),
            ("Datasets", sum(len(a.get("datasets") or []) for a in data.get("activities") or [])),
            ("PID", data.get("pid"))]
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows if v not in (None, ""))
    return (f"<h1>{html.escape(data.get('title') or '')}</h1><table>{cells}</table>"
            f"<p>{html.escape(marker(data['id']))}: the attached .eln holds its metadata, XML and previews.</p>")


def _eln_bytes(data: dict[str, Any], previews_root: Path | None, store_root: Path | None) -> bytes:
    from nexuslims_kernel.interop.eln import write_eln

    buf = io.BytesIO()
    write_eln(data, buf, previews_root=previews_root, store_root=store_root)
    return buf.getvalue()


def _experiment_id(resp: Any) -> str:
    location = resp.headers.get("Location") or ""
    tail = location.rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise PublishError(f"eLabFTW created an experiment but gave no usable Location ({location!r})")
    return tail


def publish_elabftw(db: Any, record_id: int, client: ElabClient, *, previews_root: Path | None = None,
                    include_data: bool = False) -> ElabPublished:
    """Create or update the eLabFTW experiment of record ``record_id`` and (re)attach its ``.eln``."""
    from nexuslims_kernel.records import load_record
    from nexuslims_kernel.records.view import to_json

    with db.session() as sess:
        record = load_record(sess, record_id)
        data = to_json(record)
        store_root = Path(record.instrument.filestore_root) if include_data and record.instrument.filestore_root else None
    key = meta_key("elabftw", client.base)
    known = remembered(db, key, record_id)
    body = {"title": data.get("title") or f"record {record_id}", "body": summary_html(data),
            "tags": ["NexusLIMS", (data.get("instrument") or {}).get("name") or "instrument"]}
    exp_id, action = None, "created"
    if known:
        resp = client.request("PATCH", f"{API}/{known['id']}", json={"title": body["title"], "body": body["body"]})
        if resp.status_code == 200:
            exp_id, action = known["id"], "updated"
        elif resp.status_code != 404:
            raise PublishError(f"eLabFTW refused the update of experiment {known['id']} ({resp.status_code}): {resp.text[:300]}")
    if exp_id is None and (found := client.find(marker(record_id))) is not None:
        exp_id, action = found, "adopted"
    if exp_id is None:
        resp = client.request("POST", API, json=body, before_retry=lambda: client.find(marker(record_id)))
        if isinstance(resp, str):
            exp_id, action = resp, "adopted"
        elif resp.status_code == 201:
            exp_id = _experiment_id(resp)
        else:
            raise PublishError(f"eLabFTW refused record {record_id} ({resp.status_code}): {resp.text[:300]}")
    name = f"record-{record_id}.eln"
    files = {"file": (name, _eln_bytes(data, previews_root, store_root), "application/vnd.eln+zip")}
    uploads = client.json("GET", f"{API}/{exp_id}/uploads")
    existing = next((u for u in uploads if u.get("real_name") == name), None)
    path = f"{API}/{exp_id}/uploads" + (f"/{existing['id']}" if existing else "")
    resp = client.request("POST", path, files=files, data={"comment": marker(record_id)})
    if resp.status_code != 201:
        raise PublishError(f"eLabFTW refused the .eln of record {record_id} ({resp.status_code}): {resp.text[:300]}")
    url = f"{client.base}experiments.php?mode=view&id={exp_id}"
    remember(db, key, client.base, record_id, {"id": exp_id, "url": url})
    return ElabPublished(record_id, exp_id, url, action, "replaced" if existing else "attached", client.attempts)
