"""Hostile input: path traversal, XSS as data, injection in search and XML, oversized and bad bodies."""

from __future__ import annotations

import os
import socket

import pytest
from lxml import etree

from nexuslims_kernel.db.models import Dataset, Instrument, Record

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>]]>&amp;'


def _dataset_with(db, world, kind: str, **changes) -> int:
    with db.session(write=True) as sess:
        ds = sess.get(Dataset, world.datasets[kind])
        for key, value in changes.items():
            setattr(ds, key, value)
        return ds.id


def test_traversal_in_file_and_preview_routes_is_refused(api_server, world, db, tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    os.symlink(secret, world.store / "public" / "link.dm3")
    rid = world.records["public"]
    with api_server.client(world.tokens["admin"]) as client:
        for rel in ["../secret.txt", "..%2fsecret.txt", "%2e%2e/secret.txt", "%2e%2e%2fsecret.txt", "public/../../secret.txt",
                    str(secret), "%2F" + str(secret).lstrip("/"), "public/link.dm3"]:
            resp = client.get(f"/records/{rid}/files/{rel}")
            assert resp.status_code in (403, 404) and "TOP SECRET" not in resp.text, rel
        # Stored paths are untrusted too: a dataset pointing outside the store, or via a symlink.
        for bad in ["../secret.txt", str(secret), "public/link.dm3", "public/../../secret.txt"]:
            did = _dataset_with(db, world, "public", relpath=bad, preview_path=bad, companions=[bad])
            for url in (f"/datasets/{did}/file", f"/datasets/{did}/preview", f"/records/{rid}/files/{bad}"):
                resp = client.get(url)
                assert resp.status_code == 404 and "TOP SECRET" not in resp.text, (bad, url)
            zipped = client.get(f"/records/{rid}/zip")
            assert zipped.status_code == 200 and b"TOP SECRET" not in zipped.content and b"MISSING_FILES.txt" in zipped.content


def test_xss_payloads_come_back_as_json_data(api_server, world, db) -> None:
    with db.session(write=True) as sess:
        rec = sess.get(Record, world.records["public"])
        rec.title = XSS
        rec.header = {"motivation": XSS}
    _dataset_with(db, world, "public", name=XSS, meta={"operator": XSS})
    with api_server.client() as client:
        for url in (f"/records/{world.records['public']}", "/records", f"/datasets/{world.datasets['public']}"):
            resp = client.get(url)
            assert resp.headers["content-type"] == "application/json; charset=utf-8"
            assert resp.headers["x-content-type-options"] == "nosniff"
            assert "default-src 'none'" in resp.headers["content-security-policy"]
            assert XSS in resp.text or XSS.replace('"', '\\"') in resp.text  # verbatim, JSON-quoted
        assert client.get(f"/records/{world.records['public']}").json()["title"] == XSS
        xml = client.get(f"/records/{world.records['public']}/export/xml")
        assert xml.status_code == 200, xml.text
        tree = etree.fromstring(xml.content)  # well-formed: the payload is text, not markup
        assert not tree.xpath("//*[local-name()='script']")
        assert XSS in "".join(tree.itertext())


@pytest.mark.parametrize("q", ['"', "*", "NEAR(a b)", "')--", "' OR 1=1 --", "zebra* OR private", "a:* | b", "\\", "%_", "()", "title:x"])
def test_search_meta_characters_never_error_or_bypass(api_server, world, q) -> None:
    with api_server.client(world.tokens["other"]) as client:
        resp = client.get("/records", params={"q": q})
        assert resp.status_code == 200, resp.text
        ids = {item["id"] for item in resp.json()["items"]}
        assert ids <= {world.records["public"]}
        facets = client.get("/records/facets", params={"q": q, "user": q, "instrument": q, "format": q})
        assert facets.status_code == 200 and facets.json()["total"] <= 1


def test_oversized_and_bad_bodies(api_server, world, settings) -> None:
    limit = settings.api.max_body_bytes
    with api_server.client(world.tokens["admin"]) as client:
        resp = client.post("/admin/groups", content=b"{" + b" " * (limit + 10) + b"}", headers={"Content-Type": "application/json"})
        assert resp.status_code == 413 and resp.json()["error"]["status"] == 413
        for body in (b"{not json", b"\xff\xfe", b"[1,2", b'{"name": '):
            resp = client.post("/admin/groups", content=body)
            assert resp.status_code == 400 and "not valid JSON" in resp.json()["error"]["message"]
        assert client.post("/admin/groups", json=["a"]).status_code == 400
        assert client.post("/admin/groups", json={"name": "x", "evil": 1}).status_code == 400
        assert client.get("/records", params={"limit": "lots"}).status_code == 400
        assert client.get("/records", params={"cursor": "!!!"}).status_code == 400
        assert client.get("/nope/../../etc/passwd").status_code == 404
    with api_server.client(world.tokens["instrument"]) as logger:
        huge = logger.post("/logger/events", json={"events": [{"kind": "NOTE", "text": "x" * limit}]})
        assert huge.status_code == 413
    # Chunked upload without Content-Length is refused too (and never buffered).
    with socket.create_connection(("127.0.0.1", api_server.port), timeout=30) as sock:
        auth = f"Authorization: Bearer {world.tokens['admin']}\r\n".encode()
        sock.sendall(b"POST /api/v1/admin/groups HTTP/1.1\r\nHost: x\r\n" + auth + b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(limit // len(chunk) + 2):
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        sock.sendall(b"0\r\n\r\n")
        assert b" 413 " in sock.recv(4096).split(b"\r\n")[0]


def test_errors_have_no_stack_traces(api_server, world, db) -> None:
    with db.session(write=True) as sess:
        sess.get(Instrument, 1).filestore_root = None  # files cannot be found: clean 404, not a crash
    with api_server.client(world.tokens["owner"]) as client:
        resp = client.get(f"/datasets/{world.datasets['private']}/file")
        assert resp.status_code == 404 and "Traceback" not in resp.text
        resp = client.get(f"/records/{world.records['private']}/export/bogus")
        assert resp.status_code == 400 and "unknown export format" in resp.json()["error"]["message"]


def test_an_unexpected_crash_is_a_plain_500_with_no_trace_or_secret(api_server, world, monkeypatch) -> None:
    """A bug deep in a handler: the client gets a JSON 500 and nothing of the exception."""
    import nexuslims_kernel.records as records_pkg

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom while reading postgresql://nx:S3cretPw@db/nx with nxh_leakytoken12345")

    monkeypatch.setattr(records_pkg, "load_record", broken)
    with api_server.client(world.tokens["owner"]) as client:
        resp = client.get(f"/records/{world.records['private']}")
    assert resp.status_code == 500
    assert set(resp.json()) == {"error"} and resp.json()["error"]["status"] == 500
    for leak in ("Traceback", "RuntimeError", "boom", "S3cretPw", "nxh_leakytoken12345", "records.py"):
        assert leak not in resp.text
