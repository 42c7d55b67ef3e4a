"""Files with unusual names download, zip and export faithfully; Range and HEAD behave as RFC 9110 says."""

from __future__ import annotations

import io
import urllib.parse
import zipfile
from pathlib import Path

import pytest
from apikit import add_record
from lxml import etree

from nexuslims_kernel.db.models import Group, Instrument, Person
from nexuslims_kernel.records.schema import NS, validation_errors

ODD = "odd/line\nbreak \x1b[31mred\x07 \u202egnp.dm3"


def _add(db, settings, world, relpath: str, content: bytes) -> tuple[int, int]:
    with db.session(write=True) as sess:
        inst = sess.query(Instrument).filter_by(name="titan").one()
        alice = sess.query(Person).filter_by(username="alice").one()
        rec, ds = add_record(sess, inst, "public", alice, sess.query(Group).first(), world.store, Path(settings.previews_path),
                             relpath=relpath, content=content)
        return rec.id, ds.id


def _filename_star(header: str) -> str:
    value = header.split("filename*=", 1)[1].split(";")[0]
    assert value.startswith("UTF-8''")
    return urllib.parse.unquote(value.removeprefix("UTF-8''"))


def test_a_name_with_control_characters_downloads_zips_and_exports_faithfully(api_server, world, db, settings) -> None:
    rid, did = _add(db, settings, world, ODD, b"odd bytes")
    with api_server.client(world.tokens["other"]) as client:
        for url in (f"/datasets/{did}/file", f"/records/{rid}/files/{urllib.parse.quote(ODD)}"):
            resp = client.get(url)
            assert resp.status_code == 200 and resp.content == b"odd bytes", resp.text
            header = resp.headers["content-disposition"]
            assert all(0x20 <= ord(c) < 0x7F for c in header), header
            assert _filename_star(header) == ODD.rsplit("/", 1)[1]
            fallback = header.split('filename="', 1)[1].split('"', 1)[0]
            assert fallback.endswith("gnp.dm3") and "\x1b" not in fallback
        zipped = zipfile.ZipFile(io.BytesIO(client.get(f"/records/{rid}/zip").content))
        [member] = zipped.namelist()
        assert member.isprintable() and "\u202e" not in member
        assert urllib.parse.unquote(member) == ODD and zipped.read(member) == b"odd bytes"
        exported = client.get(f"/records/{rid}/export/xml").content
        assert validation_errors(exported) == []
        xml = etree.fromstring(exported)
        [location] = xml.iterfind(f".//{{{NS}}}location")
        assert location.text == member and urllib.parse.unquote(location.text) == ODD


def test_the_file_path_is_decoded_once(api_server, world, db, settings) -> None:
    rid, _ = _add(db, settings, world, "pct/%41.dm3", b"percent")
    (world.store / "pct" / "A.dm3").write_bytes(b"not me")
    with api_server.client(world.tokens["other"]) as client:
        resp = client.get(f"/records/{rid}/files/pct/%2541.dm3")
        assert resp.status_code == 200 and resp.content == b"percent"
        assert client.get(f"/records/{rid}/files/pct/%252541.dm3").status_code == 404
        assert client.get(f"/records/{rid}/files/pct/%41.dm3").status_code == 404  # that is "A.dm3", not in the record


@pytest.mark.parametrize(("header", "status", "body"), [
    ("bytes=0-3", 206, b"publ"),
    ("bytes=-3", 206, b"lic"),
    ("bytes=0-1, 4-5", 200, None),  # several ranges: not supported, so the whole file (RFC 9110 14.2)
    ("items=0-5", 200, None),  # unknown unit: ignored
    ("bytes=1_0-2_0", 416, None),
    ("bytes=+1-2", 416, None),
    ("bytes=0x1-2", 416, None),
    ("bytes=99999999-", 416, None),
])
def test_ranges(api_server, world, header, status, body) -> None:
    did = world.datasets["public"]
    size = (world.store / world.relpaths["public"]).stat().st_size
    with api_server.client(world.tokens["other"]) as client:
        resp = client.get(f"/datasets/{did}/file", headers={"Range": header})
        assert resp.status_code == status, resp.text
        if status == 416:
            assert resp.headers["content-range"] == f"bytes */{size}"
            assert resp.json()["error"]["status"] == 416
        elif status == 200:
            assert resp.content == (world.store / world.relpaths["public"]).read_bytes()
        else:
            assert resp.content == body and resp.headers["content-range"].endswith(f"/{size}")


def test_head_on_files(api_server, world) -> None:
    rid, did = world.records["public"], world.datasets["public"]
    size = (world.store / world.relpaths["public"]).stat().st_size
    with api_server.client(world.tokens["other"]) as client:
        for url in (f"/datasets/{did}/file", f"/records/{rid}/files/{world.relpaths['public']}", f"/datasets/{did}/preview",
                    f"/records/{rid}/zip"):
            head, get = client.head(url), client.get(url)
            assert head.status_code == 200 and head.content == b"", url
            assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.content))
            assert head.headers["content-type"] == get.headers["content-type"]
        assert client.head(f"/datasets/{did}/file").headers["content-length"] == str(size)
        partial = client.head(f"/datasets/{did}/file", headers={"Range": "bytes=2-5"})
        assert partial.status_code == 206 and partial.headers["content-range"] == f"bytes 2-5/{size}"
        assert client.head(f"/datasets/{world.datasets['private']}/file").status_code == 404  # the ACL holds for HEAD too
