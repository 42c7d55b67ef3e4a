"""The API test server from tests/api, for the store tests (one place defines how it starts)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from apikit import ApiServer


@contextlib.contextmanager
def api_server_for(settings: Any, db: Any) -> Iterator[ApiServer]:
    server = ApiServer(settings, db)
    try:
        yield server
    finally:
        server.stop()
