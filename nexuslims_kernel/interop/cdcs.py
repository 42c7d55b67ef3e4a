"""Hand a record's Nexus Experiment XML to a CDCS instance (NexusLIMS-CDCS), idempotently by record id.

The REST calls are the ones NexusLIMS itself uses: ``GET rest/template-version-manager/global/``
(the template's ``current`` version by title), ``POST rest/data/`` (``template``, ``title``,
``xml_content``; 201 with the new ``id``), ``PATCH rest/data/<id>/`` to update, ``GET
rest/workspace/read_access/`` and ``PATCH rest/data/<id>/assign/<workspace>/``; the token goes
in ``Authorization: Token …``. Which CDCS document holds which record is kept in
``facility_meta`` (one key per CDCS URL), so publishing again updates that document. A
failed request (connection error, 5xx, 429) is retried with back-off; before a create is
retried, CDCS is asked for a document with the same title and XML, so a create whose answer
was lost is adopted, never duplicated.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.interop.rest import PublishError, RestClient, meta_key, remember, remembered

CdcsError = PublishError


@dataclasses.dataclass
class Published:
    record_id: int
    cdcs_id: str
    url: str
    action: str  # created | updated | adopted
    attempts: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class CdcsClient(RestClient):
    """The few CDCS REST calls a publish needs, each retried on transient failures."""

    def __init__(self, base_url: str, token: str, **kwargs: Any) -> None:
        if not token:
            raise InvalidInputError("no CDCS token: set NXHUB_CDCS_TOKEN (or NexusLIMS's NX_CDCS_TOKEN) in the environment")
        super().__init__("CDCS", base_url, {"Authorization": f"Token {token}"}, **kwargs)

    def template_id(self, title: str) -> str:
        managers = self.json("GET", "rest/template-version-manager/global/")
        for tvm in managers:
            if tvm.get("title") == title and tvm.get("current"):
                return str(tvm["current"])
        names = ", ".join(repr(t.get("title")) for t in managers) or "none"
        raise CdcsError(f"CDCS at {self.base} has no global template titled {title!r} (it has: {names})")

    def workspace_id(self, title: str) -> str:
        for ws in self.json("GET", "rest/workspace/read_access/"):
            if ws.get("title") == title:
                return str(ws["id"])
        raise CdcsError(f"CDCS at {self.base} has no workspace titled {title!r} that this token can read")

    def find(self, title: str, xml: str) -> str | None:
        """The id of a document with exactly this title and XML (a create whose answer was lost), if any."""
        resp = self.once("GET", "rest/data/", params={"title": title})
        if isinstance(resp, Exception) or resp.status_code != 200:
            return None
        for doc in resp.json():
            if doc.get("title") == title and (doc.get("xml_content") or "").strip() == xml.strip():
                return str(doc["id"])
        return None


def _record_xml(sess: Any, record_id: int) -> tuple[str, str]:
    from nexuslims_kernel.records import load_record
    from nexuslims_kernel.records.exporters.xml import to_xml

    record = load_record(sess, record_id)
    return record.title or f"record {record_id}", to_xml(record).decode("utf-8")


def publish_cdcs(db: Any, record_id: int, client: CdcsClient, *, template: str, workspace: str | None = None) -> Published:
    """Create or update the CDCS document of record ``record_id``; remembers which document it is."""
    with db.session() as sess:
        title, xml = _record_xml(sess, record_id)
    known = remembered(db, meta_key("cdcs", client.base), record_id)
    template_id = client.template_id(template)
    body = {"template": template_id, "title": title, "xml_content": xml}
    cdcs_id, action = None, "created"
    if known:
        resp = client.request("PATCH", f"rest/data/{known['id']}/", json={"title": title, "xml_content": xml})
        if resp.status_code == 200:
            cdcs_id, action = known["id"], "updated"
        elif resp.status_code != 404:  # 404: deleted in CDCS since; create it again
            raise CdcsError(f"CDCS refused the update of document {known['id']} ({resp.status_code}): {resp.text[:300]}")
    if cdcs_id is None:
        adopted = client.find(title, xml)
        if adopted is not None:
            cdcs_id, action = adopted, "adopted"
    if cdcs_id is None:
        resp = client.request("POST", "rest/data/", json=body, before_retry=lambda: client.find(title, xml))
        if isinstance(resp, str):  # a retry found the document an unanswered attempt created
            cdcs_id, action = resp, "adopted"
        elif resp.status_code == 201:
            cdcs_id = str(resp.json()["id"])
        else:
            raise CdcsError(f"CDCS refused record {record_id} ({resp.status_code}): {resp.text[:300]}")
    if workspace:
        ws = client.workspace_id(workspace)
        client.json("PATCH", f"rest/data/{cdcs_id}/assign/{ws}/")
    url = f"{client.base}data?id={cdcs_id}"
    remember(db, meta_key("cdcs", client.base), client.base, record_id, {"id": cdcs_id, "url": url})
    return Published(record_id, cdcs_id, url, action, client.attempts)
