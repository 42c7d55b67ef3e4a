"""An eLabFTW STAND-IN on loopback: the API v2 experiment and upload calls ``nxhub publish elabftw`` makes.

Not eLabFTW: an in-memory stand-in answering as its API v2 documents: 401 without a known key
(sent bare in ``Authorization``), 400 to an experiment body that is not JSON or whose ``title``/
``body`` is not a string or ``tags`` not a list of strings, 201 with a ``Location`` header on a
create, 404 for an unknown experiment or upload, 400 to an upload without a ``file`` part.
``q`` searches titles and bodies. Faults: ``fail_creates`` answers that many creates with 503.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
from urllib.parse import parse_qs, urlsplit

from standinkit import LoopbackServer, RoutedHandler

API = "/api/v2/experiments"


def _multipart(content_type: str, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    parts = {}
    for part in msg.iter_parts() if msg.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        parts[name] = (part.get_filename(), part.get_payload(decode=True) or b"")
    return parts


class ElabStandIn(LoopbackServer):
    def __init__(self, api_key: str = "3-elab-key") -> None:
        self.api_key = api_key
        self.experiments: dict[str, dict] = {}
        self.uploads: dict[str, dict[str, dict]] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_creates = 0
        self._ids = itertools.count(1)
        self._upload_ids = itertools.count(100)
        self._lock = threading.Lock()
        self.serve(self._handler())

    @staticmethod
    def _bad_fields(body: dict) -> str | None:
        for key in ("title", "body"):
            if key in body and not isinstance(body[key], str):
                return f"Incorrect value for {key}: must be a string"
        tags = body.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return "Incorrect value for tags: must be a list of strings"
        return None

    def _handler(self):
        standin = self

        class Handler(RoutedHandler):
            def _send(self, code: int, payload=None, location: str | None = None) -> None:
                body = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(code)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, code: int, description: str) -> None:
                self._send(code, {"code": code, "message": {400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
                                                             503: "Service Unavailable"}[code], "description": description})

            def _route(self, method: str) -> None:
                parts = urlsplit(self.path)
                standin.requests.append((method, self.path))
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Authorization") != standin.api_key:
                    return self._error(401, "No corresponding API key found!")
                with standin._lock:
                    return self._dispatch(method, parts.path, parse_qs(parts.query), raw)

            def _json(self, raw: bytes):
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    return None
                return body if isinstance(body, dict) else None

            def _dispatch(self, method, path, query, raw):
                seg = path[len(API):].strip("/").split("/") if path.startswith(API) else None
                if seg is None:
                    return self._error(404, "Nothing here")
                seg = [s for s in seg if s]
                if not seg and method == "GET":
                    q = (query.get("q") or [""])[0]
                    hits = [e for e in standin.experiments.values() if q in e["title"] or q in e["body"]]
                    return self._send(200, hits[: int((query.get("limit") or ["15"])[0])])
                if not seg and method == "POST":
                    body = self._json(raw)
                    if body is None or standin._bad_fields(body):
                        return self._error(400, "Incorrect body" if body is None else standin._bad_fields(body))
                    if standin.fail_creates:
                        standin.fail_creates -= 1
                        return self._error(503, "Try again later")
                    eid = str(next(standin._ids))
                    standin.experiments[eid] = {"id": int(eid), "title": body.get("title", "Untitled"),
                                                "body": body.get("body", ""), "tags": "|".join(body.get("tags", []))}
                    standin.uploads[eid] = {}
                    return self._send(201, None, location=f"{standin.url.rstrip('/')}{API}/{eid}")
                exp = standin.experiments.get(seg[0])
                if exp is None:
                    return self._error(404, "Nothing to show with this id")
                if len(seg) == 1 and method == "PATCH":
                    body = self._json(raw)
                    if body is None or standin._bad_fields(body):
                        return self._error(400, "Incorrect body" if body is None else standin._bad_fields(body))
                    exp.update({k: body[k] for k in ("title", "body") if k in body})
                    return self._send(200, exp)
                if len(seg) == 1 and method == "GET":
                    return self._send(200, exp)
                if seg[1:2] == ["uploads"] and method == "GET" and len(seg) == 2:
                    return self._send(200, [{k: v for k, v in u.items() if k != "data"} for u in standin.uploads[seg[0]].values()])
                if seg[1:2] == ["uploads"] and method == "POST" and len(seg) in (2, 3):
                    form = _multipart(self.headers.get("Content-Type", ""), raw)
                    if "file" not in form or not form["file"][0]:
                        return self._error(400, "No file was uploaded")
                    if len(seg) == 3 and seg[2] not in standin.uploads[seg[0]]:
                        return self._error(404, "Nothing to show with this id")
                    uid = seg[2] if len(seg) == 3 else str(next(standin._upload_ids))
                    standin.uploads[seg[0]][uid] = {"id": int(uid), "real_name": form["file"][0], "data": form["file"][1],
                                                    "comment": (form.get("comment") or (None, b""))[1].decode()}
                    return self._send(201, None, location=f"{standin.url.rstrip('/')}{API}/{seg[0]}/uploads/{uid}")
                return self._error(404, "Nothing here")

        return Handler
