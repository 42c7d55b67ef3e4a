"""Make untrusted JSON-like values storable on both backends.

PostgreSQL text and JSONB refuse NUL characters, UTF-8 cannot encode lone
surrogates and JSON has no NaN; anything typed by a client or read from a
file passes through :func:`db_clean` before it is stored.
"""

from __future__ import annotations

import math
import re
from typing import Any

_DB_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def db_clean(value: Any) -> Any:
    """A copy of JSON-like ``value`` that both SQLite and PostgreSQL (JSONB) accept."""
    if isinstance(value, str):
        return _DB_FORBIDDEN.sub("", value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {db_clean(str(k)): db_clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [db_clean(v) for v in value]
    if value is None or isinstance(value, (bool, int)):
        return value
    return db_clean(str(value))
