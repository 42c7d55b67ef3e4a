"""Check real traffic against the served OpenAPI document: every request and response body fits its schema."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from nexuslims_kernel.api.schemas import FORMATS


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


class OpenApiChecker:
    """An httpx event hook pair: every exchange is matched to an operation and its bodies validated.

    ``seen`` collects (method, path template, status) so a test can ask that every operation was exercised.
    """

    def __init__(self, document: dict[str, Any], base_path: str) -> None:
        self.doc, self.base_path = document, base_path.rstrip("/")
        self.registry = Registry().with_resource("urn:doc", Resource(document, specification=DRAFT202012))
        self.templates = sorted(document["paths"], key=lambda p: (p.count("{"), -len(p)))
        self.seen: set[tuple[str, str, int]] = set()
        self.failures: list[str] = []

    def _template(self, path: str) -> str:
        for template in self.templates:
            rx = re.escape(template)
            rx = rx.replace(re.escape("{relpath}"), ".+")
            rx = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", rx)
            if re.fullmatch(rx, path):
                return template
        raise AssertionError(f"{path} is not in the OpenAPI document")

    def _validate(self, value: Any, *pointer: str) -> str | None:
        schema = {"$ref": "urn:doc#" + _pointer(*pointer)}
        validator = jsonschema.Draft202012Validator(schema, registry=self.registry, format_checker=FORMATS)
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        return None if error is None else f"{'.'.join(map(str, error.absolute_path))}: {error.message[:300]}"

    def response(self, resp: httpx.Response) -> None:
        resp.read()
        request = resp.request
        method = request.method.lower()
        path = request.url.path.removeprefix(self.base_path + "/api/v1") or "/"
        template = self._template(path)
        operations = self.doc["paths"][template]
        where = f"{request.method} {path} -> {resp.status_code}"
        if method not in operations:
            if resp.status_code != 405:
                self.failures.append(f"{where}: method not documented")
            return
        op = operations[method]
        self.seen.add((method, template, resp.status_code))
        if 200 <= resp.status_code < 300 and request.content and "requestBody" in op:
            problem = self._validate(json.loads(request.content), "paths", template, method, "requestBody", "content",
                                     "application/json", "schema")
            if problem:
                self.failures.append(f"{where}: accepted request body does not fit the document: {problem}")
        answer = op["responses"].get(str(resp.status_code))
        if answer is None:
            self.failures.append(f"{where}: status not documented")
            return
        if "$ref" in answer:
            answer = self.doc["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
            pointer = ("components", "responses", "Error", "content", "application/json", "schema")
        else:
            pointer = ("paths", template, method, "responses", str(resp.status_code), "content")
        ctype = resp.headers.get("content-type", "").split(";")[0]
        if ctype not in answer["content"]:
            self.failures.append(f"{where}: content type {ctype} not documented ({sorted(answer['content'])})")
            return
        if ctype == "application/json" and method != "head":
            if "$ref" not in op["responses"][str(resp.status_code)]:
                pointer = (*pointer, "application/json", "schema")
            problem = self._validate(resp.json(), *pointer)
            if problem:
                self.failures.append(f"{where}: response does not fit the document: {problem}")

    def client(self, base_url: str, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=base_url, headers=headers, timeout=60, event_hooks={"response": [self.response]})
