"""Where the Logger keeps its settings, token and journal, and how a fleet config file overrides them.

A config file is JSON: ``{"hub_url": ..., "token": ..., "journal": ..., "home": ...,
"timeout_s": 10, "poll_s": 15, "retry_cap_s": 60}``; every key is optional. The instrument token is read from, in order: the config file,
the OS keyring (``keyring``, when installed and working), and a ``token`` file
next to the settings that only the user can read (mode 0600).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

HOME_ENV = "NXHUB_LOGGER_HOME"
KEYRING_ENV = "NXHUB_LOGGER_KEYRING"  # "0" turns the keyring off (tests, shared PCs)
KEYRING_SERVICE = "nxhub-logger"


class ConfigError(Exception):
    """The settings cannot be used; the message says which file and why."""


def default_home() -> Path:
    """The per-user folder for settings and the journal, by OS convention."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV])
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA") or Path.home()) / "nxhub-logger"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "nxhub-logger"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "nxhub-logger"


@dataclasses.dataclass
class Settings:
    hub_url: str = ""
    token: str = ""
    journal: Path = dataclasses.field(default_factory=lambda: default_home() / "journal.sqlite3")
    home: Path = dataclasses.field(default_factory=default_home)
    config_file: Path | None = None
    timeout_s: float = 10.0
    poll_s: float = 15.0  # how often the hub is asked for news while all is delivered
    retry_cap_s: float = 60.0  # the longest wait between two delivery attempts while the hub is away

    @property
    def complete(self) -> bool:
        return bool(self.hub_url and self.token)


def load(config_file: str | Path | None = None) -> Settings:
    """The settings from ``config_file`` (or ``<home>/config.json``), with the token from wherever it is kept."""
    home = default_home()
    path = Path(config_file) if config_file else home / "config.json"
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config {path} must hold a JSON object")
    elif config_file:
        raise ConfigError(f"config file {path} does not exist")
    home = Path(data.get("home") or home)
    settings = Settings(
        hub_url=str(data.get("hub_url") or "").strip(), home=home, config_file=path,
        journal=Path(data.get("journal") or home / "journal.sqlite3"),
    )
    for key in ("timeout_s", "poll_s", "retry_cap_s"):
        if data.get(key) is not None:
            try:
                setattr(settings, key, float(data[key]))
            except (TypeError, ValueError):
                raise ConfigError(f"config {path}: {key!r} must be a number of seconds") from None
    settings.token = str(data.get("token") or "") or read_token(settings)
    return settings


def save(settings: Settings, token: str) -> str:
    """Store the hub URL in the config file and the token in the keyring (else a 0600 file); returns where the token went."""
    path = settings.config_file or settings.home / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    data.pop("token", None)
    data["hub_url"] = settings.hub_url
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    settings.token = token
    if _keyring_set(settings.hub_url, token):
        _token_file(settings).unlink(missing_ok=True)
        return "the system keyring"
    tf = _token_file(settings)
    fd = os.open(tf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    os.chmod(tf, 0o600)  # also when the file existed with wider rights
    return str(tf)


def read_token(settings: Settings) -> str:
    token = _keyring_get(settings.hub_url) if settings.hub_url else None
    if token:
        return token
    tf = _token_file(settings)
    return tf.read_text(encoding="utf-8").strip() if tf.exists() else ""


def _token_file(settings: Settings) -> Path:
    return settings.home / "token"


def _keyring():
    if os.environ.get(KEYRING_ENV, "1") == "0":
        return None
    try:
        import keyring  # optional: not in the zipapp
    except Exception:
        return None
    return keyring


def _keyring_get(hub_url: str) -> str | None:
    kr = _keyring()
    try:
        return kr.get_password(KEYRING_SERVICE, hub_url) if kr else None
    except Exception:  # no usable backend (headless Linux): fall back to the file
        return None


def _keyring_set(hub_url: str, token: str) -> bool:
    kr = _keyring()
    try:
        if kr is None:
            return False
        kr.set_password(KEYRING_SERVICE, hub_url, token)
        return True
    except Exception:
        return False
