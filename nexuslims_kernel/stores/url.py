"""Store URLs: which kind of store an instrument's ``filestore_root`` names, checked before any I/O.

A store is a local folder (``/data/titan`` or ``file:///data/titan``) or a
bucket prefix (``s3://bucket/prefix``, ``gs://bucket/prefix``,
``az://container/prefix``). Names are checked against the providers' own
rules, so a typo or a path-traversal attempt fails with one line instead of a
request to a server. Credentials never appear in a URL: they come from the
provider's standard chain.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from nexuslims_kernel.errors import InvalidInputError

OBJECT_SCHEMES = ("s3", "gs", "az")
SCHEMES = ("file", *OBJECT_SCHEMES)

#: S3 and GCS bucket names: 3-63 lower-case letters, digits, '.', '-', starting and ending alphanumeric.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
#: Azure container names: 3-63 lower-case letters, digits and single '-'.
_CONTAINER = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class StoreURL:
    """A parsed store location: ``scheme`` is ``file`` for folders (then ``path`` is absolute)."""

    scheme: str
    bucket: str = ""
    prefix: str = ""  # no leading or trailing '/'
    path: str = ""  # file stores only

    @property
    def is_object(self) -> bool:
        return self.scheme in OBJECT_SCHEMES

    @property
    def root(self) -> str:
        """The store's root as its fsspec filesystem names it (``bucket/prefix`` or the folder)."""
        if not self.is_object:
            return self.path
        return f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket

    def __str__(self) -> str:
        return f"{self.scheme}://{self.root}" if self.is_object else self.path


def is_store_url(value: str) -> bool:
    """True when ``value`` has a ``scheme://`` (then :func:`parse_store_url` must accept it)."""
    return bool(_SCHEME.match(value.strip()))


def _clean_prefix(value: str, raw: str) -> str:
    parts = value.strip("/").split("/") if value.strip("/") else []
    for part in parts:
        if part in ("", ".", "..") or "\\" in part or any(ord(c) < 32 for c in part):
            raise InvalidInputError(f"store URL {raw!r} has an unsafe prefix: no empty, '.' or '..' parts, backslashes or control characters")
    return "/".join(parts)


def parse_store_url(value: str) -> StoreURL:
    """Parse and check ``value``; InvalidInputError (one line) if malformed, unknown or unsafe."""
    raw = value
    value = value.strip()
    if not value:
        raise InvalidInputError("store URL is empty")
    match = _SCHEME.match(value)
    if not match:
        if not value.startswith("/"):
            raise InvalidInputError(f"store {raw!r} must be an absolute path or a URL such as s3://bucket/prefix")
        return StoreURL("file", path=value)
    scheme = match.group(1).lower()
    if scheme not in SCHEMES:
        raise InvalidInputError(f"store URL {raw!r} has unknown scheme {scheme!r}: use one of {', '.join(s + '://' for s in SCHEMES)} or an absolute path")
    parsed = urllib.parse.urlsplit(value)
    if parsed.query or parsed.fragment or "@" in parsed.netloc or ":" in parsed.netloc:
        raise InvalidInputError(f"store URL {raw!r} must not carry credentials, a port, a query or a fragment (credentials come from the provider's standard chain)")
    if scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise InvalidInputError(f"store URL {raw!r} names a host; a file:// store is a local folder (file:///path)")
        path = urllib.parse.unquote(parsed.path)
        if not path.startswith("/"):
            raise InvalidInputError(f"store URL {raw!r} must name an absolute folder (file:///path)")
        return StoreURL("file", path=path)
    bucket = urllib.parse.unquote(parsed.netloc)
    rule = _CONTAINER if scheme == "az" else _BUCKET
    if not rule.match(bucket) or ".." in bucket:
        what = "container" if scheme == "az" else "bucket"
        raise InvalidInputError(f"store URL {raw!r} has an invalid {what} name {bucket!r}: 3-63 lower-case letters, digits, '-' (and '.' for buckets)")
    return StoreURL(scheme, bucket=bucket, prefix=_clean_prefix(urllib.parse.unquote(parsed.path), raw))
