"""Where the Logger keeps its settings, token and journal, and how a fleet config file overrides them.

A config file is JSON: ``{"hub_url": ..., "token": ..., "journal": ..., "home": ...,
"timeout_s": 10, "poll_s": 15, "retry_cap_s": 60, "ca_bundle": ...}``; every key is optional. The instrument token is read from, in order: the config file,
the OS keyring (``keyring``, when installed and working), and a ``token`` file
next to the settings that only the user can read (mode 0600). Python 3.4 syntax and
pathlib calls (the zipapp runs on old PCs).
"""

import json
import os
import sys
from pathlib import Path

HOME_ENV = "NXHUB_LOGGER_HOME"
KEYRING_ENV = "NXHUB_LOGGER_KEYRING"  # "0" turns the keyring off (tests, shared PCs)
KEYRING_SERVICE = "nxhub-logger"


class ConfigError(Exception):
    """The settings cannot be used; the message says which file and why."""


def default_home():
    """The per-user folder for settings and the journal, by OS convention."""
    if os.environ.get(HOME_ENV):
        return Path(os.environ[HOME_ENV])
    user_home = os.path.expanduser("~")  # Path.home() is Python 3.5+
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA") or user_home) / "nxhub-logger"
    if sys.platform == "darwin":
        return Path(user_home) / "Library" / "Application Support" / "nxhub-logger"
    return Path(os.environ.get("XDG_DATA_HOME") or os.path.join(user_home, ".local", "share")) / "nxhub-logger"


class Settings:
    """Where the hub is, the instrument token, the journal's file and the timings.

    ``poll_s``: how often the hub is asked for news while all is delivered;
    ``retry_cap_s``: the longest wait between two delivery attempts while the hub is away;
    ``ca_bundle``: a PEM file of CA certificates for an old PC's Python (empty: the system's).
    """

    def __init__(self, hub_url="", token="", journal=None, home=None, config_file=None, timeout_s=10.0, poll_s=15.0,
                 retry_cap_s=60.0, ca_bundle=""):
        self.hub_url, self.token = hub_url, token
        self.home = home if home is not None else default_home()
        self.journal = journal if journal is not None else default_home() / "journal.sqlite3"
        self.config_file = config_file
        self.timeout_s, self.poll_s, self.retry_cap_s = timeout_s, poll_s, retry_cap_s
        self.ca_bundle = ca_bundle

    def __repr__(self):  # never the token
        return "Settings(hub_url={!r}, journal={!r})".format(self.hub_url, str(self.journal))

    @property
    def complete(self):
        return bool(self.hub_url and self.token)


def _read_text(path):
    with open(str(path), encoding="utf-8") as fh:
        return fh.read()


def _write_text(path, text):
    with open(str(path), "w", encoding="utf-8") as fh:
        fh.write(text)


def load(config_file=None):
    """The settings from ``config_file`` (or ``<home>/config.json``), with the token from wherever it is kept."""
    home = default_home()
    path = Path(str(config_file)) if config_file else home / "config.json"
    data = {}
    if path.exists():
        try:
            data = json.loads(_read_text(path))
        except (OSError, ValueError) as exc:
            raise ConfigError("cannot read config {}: {}".format(path, exc)) from None
        if not isinstance(data, dict):
            raise ConfigError("config {} must hold a JSON object".format(path))
    elif config_file:
        raise ConfigError("config file {} does not exist".format(path))
    home = Path(data.get("home") or str(home))
    settings = Settings(
        hub_url=str(data.get("hub_url") or "").strip(), home=home, config_file=path,
        journal=Path(data.get("journal") or str(home / "journal.sqlite3")), ca_bundle=str(data.get("ca_bundle") or ""),
    )
    for key in ("timeout_s", "poll_s", "retry_cap_s"):
        if data.get(key) is not None:
            try:
                setattr(settings, key, float(data[key]))
            except (TypeError, ValueError):
                raise ConfigError("config {}: {!r} must be a number of seconds".format(path, key)) from None
    settings.token = str(data.get("token") or "") or read_token(settings)
    return settings


def save(settings, token):
    """Store the hub URL in the config file and the token in the keyring (else a 0600 file); returns where the token went."""
    path = settings.config_file or settings.home / "config.json"
    if not path.parent.is_dir():
        os.makedirs(str(path.parent))
    data = json.loads(_read_text(path)) if path.exists() else {}
    data.pop("token", None)
    data["hub_url"] = settings.hub_url
    _write_text(path, json.dumps(data, indent=2))
    settings.token = token
    tf = str(_token_file(settings))
    if _keyring_set(settings.hub_url, token):
        if os.path.exists(tf):
            os.remove(tf)
        return "the system keyring"
    fd = os.open(tf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    os.chmod(tf, 0o600)  # also when the file existed with wider rights
    return tf


def read_token(settings):
    token = _keyring_get(settings.hub_url) if settings.hub_url else None
    if token:
        return token
    tf = _token_file(settings)
    return _read_text(tf).strip() if tf.exists() else ""


def _token_file(settings):
    return settings.home / "token"


def _keyring():
    if os.environ.get(KEYRING_ENV, "1") == "0":
        return None
    try:
        import keyring  # optional: not in the zipapp
    except Exception:
        return None
    return keyring


def _keyring_get(hub_url):
    kr = _keyring()
    try:
        return kr.get_password(KEYRING_SERVICE, hub_url) if kr else None
    except Exception:  # no usable backend (headless Linux): fall back to the file
        return None


def _keyring_set(hub_url, token):
    kr = _keyring()
    try:
        if kr is None:
            return False
        kr.set_password(KEYRING_SERVICE, hub_url, token)
        return True
    except Exception:
        return False
