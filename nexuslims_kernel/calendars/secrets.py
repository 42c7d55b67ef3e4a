"""Harvester settings as shown to people: a literal token is replaced by ``***``."""

from __future__ import annotations

from typing import Any

SHOWN = {"token_env", "token_file"}  # where the token lives, not the token


def redacted(settings: dict[str, Any] | None) -> dict[str, Any]:
    return {k: ("***" if ("token" in k.lower() or "password" in k.lower()) and k not in SHOWN and v else v)
            for k, v in (settings or {}).items()}
