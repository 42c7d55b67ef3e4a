"""Make strings from files safe to store and to serialise.

File metadata is untrusted: it may hold NUL bytes (PostgreSQL text and JSONB
refuse them), lone surrogates (not UTF-8 encodable), NaN (not JSON), and
control characters that XML 1.0 forbids. Everything else, including markup
such as ``<script>`` or ``]]>``, is kept verbatim: escaping is the
serialiser's job (lxml, json), so values survive as data.
"""

from __future__ import annotations

import re
from typing import Any

# Characters XML 1.0 does not allow at all (section 2.2), plus lone surrogates.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: Any) -> str:
    """``value`` as a string with the characters XML 1.0 forbids removed."""
    return _XML_FORBIDDEN.sub("", value if isinstance(value, str) else str(value))
