"""Store URLs: every bad one is refused with one line before any request is made."""

from __future__ import annotations

import pytest

from nexuslims_kernel.errors import InvalidInputError
from nexuslims_kernel.stores import parse_store_url


@pytest.mark.parametrize(("value", "scheme", "root"), [
    ("/data/titan", "file", "/data/titan"),
    ("file:///data/titan", "file", "/data/titan"),
    ("s3://em-data", "s3", "em-data"),
    ("s3://em-data/titan/2026/", "s3", "em-data/titan/2026"),
    ("gs://em.data/titan", "gs", "em.data/titan"),
    ("az://em-container/titan", "az", "em-container/titan"),
    ("S3://em-data/x", "s3", "em-data/x"),
])
def test_good_urls_name_their_root(value: str, scheme: str, root: str) -> None:
    url = parse_store_url(value)
    assert (url.scheme, url.root) == (scheme, root)


@pytest.mark.parametrize(("value", "says"), [
    ("", "empty"),
    ("relative/folder", "absolute path"),
    ("ftp://host/data", "unknown scheme 'ftp'"),
    ("http://em-data/x", "unknown scheme"),
    ("s3://", "invalid bucket name"),
    ("s3://EM_DATA/x", "invalid bucket name"),
    ("s3://ab/x", "invalid bucket name"),
    ("s3://../etc", "invalid bucket name"),
    ("s3://em..data/x", "invalid bucket name"),
    ("s3://em-data/../other-bucket", "unsafe prefix"),
    ("s3://em-data/a/./b", "unsafe prefix"),
    ("s3://em-data/a//b", "unsafe prefix"),
    ("s3://em-data/a%2F..%2F..", "unsafe prefix"),
    ("s3://key:secret@em-data/x", "credentials"),
    ("s3://em-data:9000/x", "credentials, a port"),
    ("s3://em-data/x?endpoint=http://evil", "query"),
    ("az://em--data/x", "invalid container name"),
    ("file://server/share", "names a host"),
])
def test_bad_urls_fail_with_one_line(value: str, says: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_store_url(value)
    assert says in str(err.value) and "\n" not in str(err.value)
