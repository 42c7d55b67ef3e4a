"""One retried HTTP client for the systems records are handed on to (CDCS, eLabFTW).

Connection errors, 5xx and 429 are retried with exponential back-off; 401/403 end
at once (a wrong token does not get better); a create can pass ``before_retry`` to
look for what an unanswered attempt may already have made, so a retry never
duplicates it. Tokens only travel in headers and never appear in messages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nexuslims_kernel.errors import InvalidInputError, NxhubError

RETRY_STATUS = {429, 500, 502, 503, 504}


class PublishError(NxhubError):
    """The target refused or could not be reached (after the retries)."""

    exit_code = 69  # EX_UNAVAILABLE


class RestClient:
    """``name`` (for messages) at ``base_url``, with ``headers`` (auth) on every request."""

    def __init__(self, name: str, base_url: str, headers: dict[str, str], *, retries: int = 4, backoff_s: float = 0.5,
                 timeout_s: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> None:
        import httpx

        if not base_url.startswith(("http://", "https://")):
            raise InvalidInputError(f"{name} URL {base_url!r} must start with http:// or https://")
        self.name = name
        self.base = base_url.rstrip("/") + "/"
        self.retries, self.backoff_s, self.sleep = retries, backoff_s, sleep
        self.attempts = 0
        self._http = httpx.Client(base_url=self.base, timeout=timeout_s, headers=headers)

    def close(self) -> None:
        self._http.close()

    def once(self, method: str, path: str, **kwargs: Any) -> Any:
        """One attempt: the response, or the transport error (not raised)."""
        import httpx

        self.attempts += 1
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            return exc

    def request(self, method: str, path: str, *, before_retry: Callable[[], Any] | None = None, **kwargs: Any) -> Any:
        """The response of the first attempt that is not transient (or what ``before_retry`` found); PublishError when all were."""
        last: Any = None
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff_s * 2 ** (attempt - 1))
                if before_retry is not None:
                    found = before_retry()
                    if found is not None:
                        return found
            last = self.once(method, path, **kwargs)
            if not isinstance(last, Exception) and last.status_code not in RETRY_STATUS:
                if last.status_code in (401, 403):
                    raise PublishError(f"{self.name} at {self.base} refused the token ({last.status_code})")
                return last
        why = f"{type(last).__name__}: {last}" if isinstance(last, Exception) else f"HTTP {last.status_code}"
        raise PublishError(f"{self.name} at {self.base} failed {self.retries + 1} times ({method} {path}: {why})")

    def json(self, method: str, path: str, expect: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        resp = self.request(method, path, **kwargs)
        if resp.status_code not in expect:
            raise PublishError(f"{self.name} {method} {path} answered {resp.status_code}: {resp.text[:300]}")
        return resp.json()


def remember(db: Any, key: str, base: str, record_id: int, entry: dict[str, Any]) -> None:
    """Keep which remote object holds ``record_id`` (``facility_meta[key]``), so publishing again updates it."""
    from nexuslims_kernel.db.models import FacilityMeta

    with db.session(write=True) as sess:
        meta = sess.get(FacilityMeta, key)
        if meta is None:
            meta = FacilityMeta(key=key, value={"url": base, "records": {}})
            sess.add(meta)
        value = dict(meta.value or {})
        value["records"] = {**(value.get("records") or {}), str(record_id): entry}
        meta.value = value  # a new dict, so the JSON column is written


def remembered(db: Any, key: str, record_id: int) -> dict[str, Any] | None:
    from nexuslims_kernel.db.models import FacilityMeta

    with db.session() as sess:
        meta = sess.get(FacilityMeta, key)
        return ((meta.value if meta else {}) or {}).get("records", {}).get(str(record_id))


def meta_key(kind: str, base: str) -> str:
    import hashlib

    return f"publish:{kind}:" + hashlib.sha256(base.encode()).hexdigest()[:24]
