"""A CDCS STAND-IN on loopback: the few REST calls ``nxhub publish cdcs`` makes, answered the way CDCS documents them.

Not CDCS: an in-memory stand-in for its ``rest/`` API (token auth, global template version
managers, workspaces, data documents). Like CDCS it answers 401 without a valid token, 400 to a
body that is not JSON, lacks ``template``/``title``/``xml_content``, names an unknown template or
whose XML is not well formed (or fails the template's XSD when one is given), 404 to an unknown
document. Faults on demand: ``fail_posts`` answers that many creates with 503; ``drop_posts``
stores that many creates and then closes the connection without answering (a lost response).
"""

from __future__ import annotations

import itertools
import json
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from lxml import etree
from standinkit import LoopbackServer, RoutedHandler


class CdcsStandIn(LoopbackServer):
    def __init__(self, token: str = "cdcs-secret", xsd: Path | None = None) -> None:
        self.token = token
        self.templates = [{"id": "tvm-1", "title": "Nexus Experiment", "current": "tpl-7", "versions": ["tpl-7"]}]
        self.workspaces = [{"id": "ws-1", "title": "Global Public Workspace"}]
        self.docs: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_posts = 0
        self.drop_posts = 0
        self._ids = itertools.count(1)
        self._schema = etree.XMLSchema(etree.parse(str(xsd))) if xsd else None
        self._lock = threading.Lock()
        self.serve(self._handler())

    def _check_body(self, body: dict, partial: bool = False) -> str | None:
        needed = () if partial else ("template", "title", "xml_content")
        missing = [k for k in needed if not body.get(k)]
        if missing:
            return json.dumps({k: ["This field is required."] for k in missing})
        if "template" in body and body["template"] not in {t["current"] for t in self.templates}:
            return json.dumps({"template": [f'Invalid pk "{body["template"]}" - object does not exist.']})
        if "xml_content" in body:
            try:
                doc = etree.fromstring(body["xml_content"].encode())
            except etree.XMLSyntaxError as exc:
                return json.dumps({"message": f"XML syntax error: {exc}"})
            if self._schema is not None and not self._schema.validate(doc):
                return json.dumps({"message": f"XML is not valid for the template: {self._schema.error_log.last_error}"})
        return None

    def _handler(self):
        standin = self

        class Handler(RoutedHandler):
            def _send(self, code: int, payload) -> None:
                body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    return json.loads(raw or b"{}")
                except ValueError:
                    return None

            def _route(self, method: str) -> None:
                parts = urlsplit(self.path)
                path, query = parts.path, parse_qs(parts.query)
                standin.requests.append((method, self.path))
                if self.headers.get("Authorization") != f"Token {standin.token}":
                    return self._send(401, {"detail": "Authentication credentials were not provided."})
                with standin._lock:
                    return self._dispatch(method, path, query)

            def _dispatch(self, method, path, query):
                seg = [p for p in path.split("/") if p]
                if method == "GET" and path == "/rest/template-version-manager/global/":
                    return self._send(200, standin.templates)
                if method == "GET" and path == "/rest/workspace/read_access/":
                    return self._send(200, standin.workspaces)
                if method == "GET" and path == "/rest/data/":
                    docs = [d for d in standin.docs.values() if "title" not in query or d["title"] == query["title"][0]]
                    return self._send(200, docs)
                if method == "POST" and path == "/rest/data/":
                    body = self._body()
                    if body is None:
                        return self._send(400, {"detail": "JSON parse error"})
                    if standin.fail_posts:
                        standin.fail_posts -= 1
                        return self._send(503, {"detail": "Service unavailable"})
                    error = standin._check_body(body)
                    if error:
                        return self._send(400, error)
                    doc = {"id": str(next(standin._ids)), "template": body["template"], "title": body["title"],
                           "xml_content": body["xml_content"], "workspace": None}
                    standin.docs[doc["id"]] = doc
                    if standin.drop_posts:
                        standin.drop_posts -= 1
                        self.close_connection = True
                        self.connection.shutdown(2)  # stored, but the client never hears back
                        return None
                    return self._send(201, doc)
                if method == "PATCH" and len(seg) == 3 and seg[:2] == ["rest", "data"]:
                    doc = standin.docs.get(seg[2])
                    if doc is None:
                        return self._send(404, {"message": "Data not found."})
                    body = self._body()
                    error = "JSON parse error" if body is None else standin._check_body(body, partial=True)
                    if error:
                        return self._send(400, error)
                    doc.update({k: body[k] for k in ("title", "xml_content") if k in body})
                    return self._send(200, doc)
                if method == "PATCH" and len(seg) == 5 and seg[:2] == ["rest", "data"] and seg[3] == "assign":
                    doc = standin.docs.get(seg[2])
                    if doc is None or seg[4] not in {w["id"] for w in standin.workspaces}:
                        return self._send(404, {"message": "Data or workspace not found."})
                    doc["workspace"] = seg[4]
                    return self._send(200, doc)
                return self._send(404, {"detail": "Not found."})

        return Handler
