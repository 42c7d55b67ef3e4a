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


# Characters that must never reach a terminal, a zip listing or an XML document raw: C0/C1 controls,
# DEL, line/paragraph separators and the bidirectional overrides that can disguise a name.
_UNSAFE_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|%(?=[0-9A-Fa-f]{2})|[\ud800-\udfff]")


def safe_name(relpath: str) -> str:
    """One faithful, printable spelling of a file name: unsafe characters percent-encoded.

    ``urllib.parse.unquote(safe_name(x)) == x`` for every name (a ``%`` that
    would read as an escape is itself encoded), so zip member names and the
    XML ``location`` still name the file exactly; ordinary names are unchanged.
    """
    return _UNSAFE_NAME.sub(_percent, relpath)


def _percent(match: re.Match[str]) -> str:
    char = match.group()
    try:  # undecodable bytes of a file name (os.fsdecode) come back as the bytes they were
        raw = char.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = char.encode("utf-8", "surrogatepass")
    return "".join(f"%{b:02X}" for b in raw)
