"""Bearer tokens: shown once, stored only as a SHA-256 hash.

Tokens carry 256 bits of randomness, so a fast hash is enough (no password
stretching needed) and lookups by hash are a plain indexed equality.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PREFIX = "nxh_"


def new_token() -> str:
    """A fresh random token, e.g. ``nxh_4f9c...`` (show it once, store its hash)."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(hash_token(token), stored_hash)
