"""A forgiving reader for the INI-style text FEI/Thermo and Tescan write into TIFF tags.

``configparser`` rejects what hand-edited or truncated text often holds
(duplicate keys, lines without ``=``, a key before any section, stray bytes);
this reader keeps every ``key=value`` line it can, last value winning, and
counts what it skipped so the extractor can say so.
"""

from __future__ import annotations

from typing import Any


def parse_ini(text: str, default_section: str = "") -> tuple[dict[str, dict[str, str]], int]:
    """(sections -> {key: value}, number of lines skipped)."""
    sections: dict[str, dict[str, str]] = {}
    current = default_section
    skipped = 0
    for raw_line in text.replace("\r", "\n").split("\n"):
        line = raw_line.strip().strip("\x00")
        if not line or line.startswith((";", "#")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, {})
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            skipped += 1
            continue
        sections.setdefault(current, {})[key.strip()] = value.strip()
    return {k: v for k, v in sections.items() if v}, skipped


def decode(value: Any) -> str:
    """Tag bytes as text (UTF-8 when valid, else Latin-1), NULs dropped."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    data = bytes(value)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\x00", "")
