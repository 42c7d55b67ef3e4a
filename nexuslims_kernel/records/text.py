"""Make strings from files safe to store and to serialise.

File metadata is untrusted: it may hold NUL bytes (PostgreSQL text and JSONB
refuse them), lone surrogates (not UTF-8 encodable), NaN (not JSON), and
control characters that XML 1.0 forbids. Everything else, including markup
such as ``<script>`` or ``]]>``, is kept verbatim: escaping is the
serialiser's job (lxml, json), so values survive as data.
"""

from __future__ import annotations

import math
import re
from typing import Any

# Characters XML 1.0 does not allow at all (section 2.2), plus lone surrogates.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_DB_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def xml_text(value: Any) -> str:
    """``value`` as a string with the characters XML 1.0 forbids removed."""
    return _XML_FORBIDDEN.sub("", value if isinstance(value, str) else str(value))


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
