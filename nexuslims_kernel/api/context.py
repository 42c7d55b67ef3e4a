"""What every handler shares: settings, database, authenticator, a thread pool."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from nexuslims_kernel.config import Settings
from nexuslims_kernel.db import Database

if TYPE_CHECKING:
    from nexuslims_kernel.api.auth import Authenticator


@dataclasses.dataclass
class ApiContext:
    settings: Settings
    db: Database
    auth: Authenticator
    executor: ThreadPoolExecutor

    @property
    def max_body_bytes(self) -> int:
        return self.settings.api.max_body_bytes

    @property
    def previews_root(self) -> Path:
        return Path(self.settings.previews_path)
