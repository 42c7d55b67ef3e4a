"""Search, pagination, files (Range, zip), OpenAPI and the 0002 search migration."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import time
import zipfile
import zlib
from pathlib import Path

from apikit import add_record
from sqlalchemy import delete, select

from nexuslims_kernel.api.app import routes
from nexuslims_kernel.api.openapi import document
from nexuslims_kernel.db import downgrade, upgrade
from nexuslims_kernel.db.acl import Principal
from nexuslims_kernel.db.models import Group, IndexedFile, Instrument, Person, Record
from nexuslims_kernel.db.record_query import RecordFilter, page


def test_search_prefix_filters_and_cursor_pages(api_server, world, db, settings) -> None:
    with db.session(write=True) as sess:
        inst, alice = sess.get(Instrument, 1), sess.scalar(select(Person).where(Person.username == "alice"))
        for i in range(7):
            add_record(sess, inst, f"extra{i}", alice, None, world.store, Path(settings.previews_path), title=f"Lamella batch {i} Ästhetik",
                       dataset_type="Image")
    with api_server.client(world.tokens["owner"]) as client:
        assert client.get("/records", params={"q": "lamel", "count": "true"}).json()["total"] == 7  # prefix
        assert client.get("/records", params={"q": "batch lamella", "count": "true"}).json()["total"] == 7  # all words
        if db.dialect == "sqlite":  # FTS5 folds diacritics; PostgreSQL's 'simple' configuration does not
            assert client.get("/records", params={"q": "asthetik", "count": "true"}).json()["total"] == 7
        assert client.get("/records", params={"q": "lamella zebrapublic", "count": "true"}).json()["total"] == 0
        assert client.get("/records", params={"dataset_type": "Spectrum", "count": "true"}).json()["total"] == 2
        assert client.get("/records", params={"from": "2026-01-06", "to": "2026-01-07", "count": "true"}).json()["total"] == 1
        assert client.get("/records", params={"user": "alice", "instrument": "titan", "count": "true"}).json()["total"] == 11
        for sort in ("-start", "start", "title", "-title", "relevance"):
            seen, cursor = [], None
            while True:
                params = {"limit": 3, "sort": sort, "q": "lamella" if sort == "relevance" else None}
                body = client.get("/records", params={k: v for k, v in {**params, "cursor": cursor}.items() if v}).json()
                seen += [item["id"] for item in body["items"]]
                cursor = body["next_cursor"]
                if not cursor:
                    break
            assert len(seen) == len(set(seen)) == (7 if sort == "relevance" else 11), sort
        titles = [i["title"] for i in client.get("/records", params={"sort": "title", "limit": 50}).json()["items"]]
        assert titles == sorted(titles)


def test_range_and_zip_downloads(api_server, world) -> None:
    rid, did = world.records["private"], world.datasets["private"]
    data = (world.store / world.relpaths["private"]).read_bytes()
    with api_server.client(world.tokens["owner"]) as client:
        whole = client.get(f"/datasets/{did}/file")
        assert whole.content == data and whole.headers["accept-ranges"] == "bytes"
        assert whole.headers["content-type"] == "application/octet-stream" and "attachment" in whole.headers["content-disposition"]
        part = client.get(f"/datasets/{did}/file", headers={"Range": "bytes=10-19"})
        assert part.status_code == 206 and part.content == data[10:20] and part.headers["content-range"] == f"bytes 10-19/{len(data)}"
        assert client.get(f"/datasets/{did}/file", headers={"Range": "bytes=-5"}).content == data[-5:]
        assert client.get(f"/datasets/{did}/file", headers={"Range": f"bytes={len(data)}-"}).status_code == 416
        zipped = client.get(f"/records/{rid}/zip")
        assert zipped.headers["content-type"] == "application/zip"
        # Sized in advance, so browsers show real progress and a cut-off download is detectable.
        assert int(zipped.headers["content-length"]) == len(zipped.content)
        with zipfile.ZipFile(io.BytesIO(zipped.content)) as zf:
            assert zf.testzip() is None and zf.read(world.relpaths["private"]) == data
            mtime = time.localtime((world.store / world.relpaths["private"]).stat().st_mtime)
            assert zf.getinfo(world.relpaths["private"]).date_time == tuple(mtime)[:5] + (mtime.tm_sec // 2 * 2,)
        preview = client.get(f"/datasets/{did}/preview")
        assert preview.headers["content-type"] == "image/png" and preview.content.startswith(b"\x89PNG")


def test_openapi_documents_every_route(api_server) -> None:
    with api_server.client() as client:
        doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.") and doc == document("/")
    documented = [re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(p)) + "$") for p in doc["paths"]]
    for pattern, *_ in routes("/"):
        if "/api/v1" not in pattern:
            continue  # the service root only redirects to the API index
        path = pattern.split("/api/v1", 1)[1].replace(r"\.", ".")
        if path == "/openapi.json":
            continue
        for concrete in _expand(path):
            assert any(rx.match(concrete) for rx in documented), concrete


def test_root_redirects_to_an_index_of_endpoints(api_server) -> None:
    """What a person sees opening http://127.0.0.1:8000 in a browser."""
    import httpx

    root = api_server.base.split("/api/v1")[0] + "/"
    first = httpx.get(root, follow_redirects=False)
    assert first.status_code == 302 and first.headers["location"].endswith("/api/v1/")
    index = httpx.get(root, follow_redirects=True).json()
    assert index["service"] == "NexusLIMS Hub API" and index["you"]["kind"] == "anonymous"
    assert any(e.endswith("/api/v1/records") for e in index["endpoints"])


def _expand(path: str) -> list[str]:
    """Concrete example paths of a route pattern: (a|b) alternatives expanded, other groups filled."""
    match = re.search(r"\(([^()]*)\)", path)
    if match is None:
        return [path]
    inner = match.group(1)
    options = inner.split("|") if re.fullmatch(r"[a-z|]+", inner) else ["1"]
    return [p for opt in options for p in _expand(path[:match.start()] + opt + path[match.end():])]


def test_search_migration_downgrades_and_keeps_index_in_sync(db, world) -> None:
    with db.session() as sess:
        admin = Principal(kind="user", person_id=0, is_admin=True)
        assert len(page(sess, admin, RecordFilter(q="zebraprivate"))[0]) == 1
    with db.session(write=True) as sess:
        sess.get(Record, world.records["private"]).search_text = "renamed quokka"
    with db.session(write=True) as sess:
        sess.execute(delete(Record).where(Record.id == world.records["public"]))
    with db.session() as sess:
        assert len(page(sess, admin, RecordFilter(q="zebraprivate"))[0]) == 1  # title still has it
        assert len(page(sess, admin, RecordFilter(q="quokka"))[0]) == 1
        assert len(page(sess, admin, RecordFilter(q="zebrapublic"))[0]) == 0
    downgrade(db, "0001")
    upgrade(db)  # re-creating the index fills it from existing rows
    with db.session() as sess:
        assert len(page(sess, admin, RecordFilter(q="quokka"))[0]) == 1
        assert sess.scalar(select(Group.name)) == "lab"


def test_a_client_leaving_mid_zip_frees_the_server(api_server, world, db, settings) -> None:
    """A browser cancelling a large download must not leave the API stuck reading files."""
    with db.session(write=True) as sess:
        inst, alice = sess.get(Instrument, 1), sess.scalar(select(Person).where(Person.username == "alice"))
        rec, _ds = add_record(sess, inst, "bigzip", alice, None, world.store, Path(settings.previews_path),
                              relpath="bigzip/stack.dm4", content=b"")
        rid = rec.id
    with open(world.store / "bigzip" / "stack.dm4", "wb") as fh:
        fh.truncate(256 << 20)  # larger than socket buffers and read-ahead together
    with api_server.client(world.tokens["owner"]) as client:
        for _ in range(3):
            with client.stream("GET", f"/records/{rid}/zip") as resp:
                assert resp.status_code == 200 and int(resp.headers["content-length"]) > 256 << 20
                next(resp.iter_raw(1 << 20))  # one chunk, then hang up
        assert client.get("/me").json()["username"] == "alice"
        zipped = client.get(f"/records/{world.records['private']}/zip")  # the pool still serves whole zips
        assert zipped.status_code == 200 and int(zipped.headers["content-length"]) == len(zipped.content)


def test_zips_reuse_recorded_checksums_and_never_a_stale_one(api_server, world, db, tmp_path) -> None:
    rid, rel = world.records["private"], world.relpaths["private"]
    path = world.store / rel
    st = path.stat()
    with db.session(write=True) as sess:  # indexed as the scanner would, no checksum yet
        sess.add(IndexedFile(instrument_id=1, relpath=rel, size=st.st_size, mtime=st.st_mtime))
    with api_server.client(world.tokens["owner"]) as client:
        first = client.get(f"/records/{rid}/zip").content

        def recorded() -> int | None:
            with db.session() as sess:
                return sess.scalar(select(IndexedFile.crc32).where(IndexedFile.relpath == rel))

        deadline = time.time() + 5  # stored as the response ends, which the client may see first
        while recorded() is None and time.time() < deadline:
            time.sleep(0.05)
        assert recorded() == zlib.crc32(path.read_bytes())  # computed while streaming, kept for the next download
        second = client.get(f"/records/{rid}/zip").content
        assert zipfile.ZipFile(io.BytesIO(second)).read(rel) == path.read_bytes() and len(second) < len(first)
        # Rewritten in place (same size, new mtime) before the indexer noticed: the old CRC is not trusted.
        path.write_bytes(bytes(reversed(path.read_bytes())))
        os.utime(path, (st.st_mtime + 60, st.st_mtime + 60))
        third = client.get(f"/records/{rid}/zip").content
    with zipfile.ZipFile(io.BytesIO(third)) as zf:
        assert zf.testzip() is None and zf.read(rel) == path.read_bytes()
    # and another implementation agrees: data descriptors, ZIP64 fields, UTF-8 names (tests/prereqs.sh installs unzip)
    for name, data in (("first.zip", first), ("second.zip", second), ("third.zip", third)):
        (tmp_path / name).write_bytes(data)
        check = subprocess.run(["unzip", "-t", str(tmp_path / name)], capture_output=True, text=True)
        assert check.returncode == 0 and "No errors detected" in check.stdout, check.stdout


def _raw_get(conn: socket.socket, path: str, token: str) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request on an open connection, body read by Content-Length (as a keep-alive client does)."""
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        head += chunk
    head, _, body = head.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        chunk = conn.recv(1 << 20)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-body")
        body += chunk
    return int(lines[0].split()[1]), headers, body


def test_a_checksummed_zip_goes_out_with_sendfile_and_keeps_the_connection(api_server, world, db) -> None:
    """Files with a recorded CRC are sent by the kernel; the byte count still matches and keep-alive survives."""
    rid, rel = world.records["private"], world.relpaths["private"]
    path = world.store / rel
    st = path.stat()
    with db.session(write=True) as sess:  # as the build worker leaves it
        sess.add(IndexedFile(instrument_id=1, relpath=rel, size=st.st_size, mtime=st.st_mtime, crc32=zlib.crc32(path.read_bytes())))
    prefix = api_server.base.split("127.0.0.1", 1)[1].split("/", 1)[1]
    with socket.create_connection(("127.0.0.1", api_server.port), timeout=30) as conn:
        status, headers, body = _raw_get(conn, f"/{prefix}/records/{rid}/zip", world.tokens["owner"])
        assert status == 200 and len(body) == int(headers["content-length"])
        assert zipfile.ZipFile(io.BytesIO(body)).read(rel) == path.read_bytes()
        status, _headers, me = _raw_get(conn, f"/{prefix}/me", world.tokens["owner"])  # same connection
        assert status == 200 and b'"alice"' in me
