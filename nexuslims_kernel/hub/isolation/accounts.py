"""One OS account per hub person, for a hub run as root: names, the uid range, creation on first spawn.

A hub user ``alice`` runs as the account ``nx-alice`` (uid and its own group in
:data:`UID_RANGE`, no password, no login shell, home under the hub's homes folder). A name
that cannot be an account name as it is (upper case, non-ASCII, longer than 29 characters)
maps to ``nx_<hash>``; a name with ``/``, control characters or nothing in it is refused.
An existing account of that name outside the range is never taken over.
"""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

UID_RANGE = (50000, 59999)  # documented in the README's security section
READERS_GROUP = "nxhub-readers"  # people's accounts join it in shared-mount mode
_PLAIN = re.compile(r"[a-z][a-z0-9_-]{0,28}")
_REFUSED = re.compile(r"[/\\\x00-\x1f\x7f:]")


class AccountError(Exception):
    """A person's OS account cannot be used or made; the message says why in one line."""


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


def account_name(username: str) -> str:
    """``nx-<username>`` for a plain name, ``nx_<12 hex>`` for any other usable one; raises AccountError."""
    if not username.strip() or _REFUSED.search(username) or username in (".", ".."):
        raise AccountError(f"hub user {username!r} cannot have an OS account (no '/', ':', '\\' or control "
                           "characters, not empty); rename the user")
    if _PLAIN.fullmatch(username):
        return "nx-" + username
    return "nx_" + hashlib.sha256(username.encode()).hexdigest()[:12]


def accounts_possible() -> str | None:
    """Why one account per person cannot be made here, or None."""
    if os.geteuid() != 0:
        return "the hub does not run as root"
    missing = [tool for tool in ("useradd", "groupadd", "usermod") if not shutil.which(tool)]
    return f"{', '.join(missing)} not found" if missing else None


def ensure_account(username: str, home: Path, readers: bool = False) -> Account:
    """The person's account, created on first use; their home exists, is theirs and is 0700."""
    name = account_name(username)
    entry = _lookup(name) or _create(name, home)
    low, high = UID_RANGE
    if not low <= entry.pw_uid <= high:
        raise AccountError(f"OS account {name} exists with uid {entry.pw_uid}, outside nxhub's range {low}-{high}; "
                           "not using it (remove it or rename the hub user)")
    if readers:
        _join_readers(name)
    account = Account(name, entry.pw_uid, entry.pw_gid, tuple(os.getgrouplist(name, entry.pw_gid)))
    own_home(home, account)
    return account


def own_home(home: Path, account: Account) -> None:
    """The home exists, is 0700, and everything in it (the pages and settings the hub copied in) is the account's."""
    home.mkdir(parents=True, exist_ok=True)
    hand_over([home], account)
    home.chmod(0o700)


def hand_over(trees: list[Path], account: Account) -> None:
    """Make what the hub wrote into a home (the pages, JupyterLab defaults) the person's own."""
    for tree in trees:
        if not tree.exists():
            continue
        for path in [tree, *(tree.rglob("*") if tree.is_dir() else [])]:
            if not path.is_symlink() and path.lstat().st_uid != account.uid:
                os.chown(path, account.uid, account.gid)


def grant_readers(roots: list[Path]) -> None:
    """shared-mount: the stores readable (never writable) by the readers group that people's accounts join."""
    try:
        gid = grp.getgrnam(READERS_GROUP).gr_gid
    except KeyError:
        subprocess.run(["groupadd", "--force", READERS_GROUP], check=True, capture_output=True, timeout=60)
        gid = grp.getgrnam(READERS_GROUP).gr_gid
    for root in roots:
        for dirpath, _dirs, files in os.walk(root):
            for path in [dirpath, *(os.path.join(dirpath, f) for f in files)]:
                st = os.lstat(path)
                if os.path.islink(path):
                    continue
                os.chown(path, -1, gid)
                os.chmod(path, (st.st_mode | 0o040 | (0o010 if os.path.isdir(path) else 0)) & ~0o022 & 0o7777)


def remove_account(username: str) -> bool:
    """Delete the person's account (not their home); False when there was none."""
    name = account_name(username)
    entry = _lookup(name)
    if entry is None or not UID_RANGE[0] <= entry.pw_uid <= UID_RANGE[1]:
        return False
    subprocess.run(["userdel", name], check=True, capture_output=True, timeout=60)
    return True


def _lookup(name: str):
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _create(name: str, home: Path):
    low, high = UID_RANGE
    run = subprocess.run(
        ["useradd", "--no-create-home", "--no-log-init", "--user-group", "--shell", "/usr/sbin/nologin",
         "--home-dir", str(home), "--comment", "nxhub person",
         "-K", f"UID_MIN={low}", "-K", f"UID_MAX={high}", "-K", f"GID_MIN={low}", "-K", f"GID_MAX={high}", name],
        capture_output=True, text=True, timeout=60)
    entry = _lookup(name)  # a concurrent first spawn may have made it: that is fine
    if entry is None:
        raise AccountError(f"useradd {name} failed: {run.stderr.strip() or run.returncode}")
    return entry


def _join_readers(name: str) -> None:
    try:
        group = grp.getgrnam(READERS_GROUP)
    except KeyError:
        subprocess.run(["groupadd", "--force", READERS_GROUP], check=True, capture_output=True, timeout=60)
        group = grp.getgrnam(READERS_GROUP)
    if name not in group.gr_mem:
        subprocess.run(["usermod", "--append", "--groups", READERS_GROUP, name], check=True, capture_output=True,
                       timeout=60)
