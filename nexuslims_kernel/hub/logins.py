"""Demo sign-ins: one generated password per demo person, written once to a 0600 file.

``nxhub up`` creates the file on first start and prints it; the hub's
authenticator reads it to pre-approve those accounts. Passwords never go to a log.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILENAME = "demo-logins.txt"
HEADER = "# Demo sign-ins for the local hub (username: password). Generated once; delete to regenerate."


def logins_path(data_dir: Path) -> Path:
    return data_dir / FILENAME


def read_logins(data_dir: Path) -> dict[str, str]:
    """username -> password, or empty when the file does not exist."""
    path = logins_path(data_dir)
    if not path.is_file():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        name, sep, password = line.partition(":")
        if sep and not line.startswith("#") and name.strip() and password.strip():
            out[name.strip()] = password.strip()
    return out


def ensure_logins(data_dir: Path, usernames: list[str]) -> dict[str, str]:
    """The demo logins, generating passwords for ``usernames`` only when the file is new."""
    existing = read_logins(data_dir)
    if existing:
        return existing
    logins = {name: secrets.token_urlsafe(9) for name in usernames}
    path = logins_path(data_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(HEADER + "\n" + "".join(f"{name}: {pw}\n" for name, pw in logins.items()))
    return logins
