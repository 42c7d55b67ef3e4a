"""The hub's secrets in a backup, encrypted with a passphrase (Fernet, key from scrypt).

Secrets (the hub's cookie secret, sign-in and token files, ``nxhub.toml``,
which may hold the database password) are packed into one tar and encrypted
as a whole; the salt and scrypt cost go into the manifest, the passphrase
never leaves this process and is never logged.
"""

from __future__ import annotations

import base64
import io
import os
import tarfile
from pathlib import Path

from nexuslims_kernel.errors import InvalidInputError

SCRYPT = {"n": 2**15, "r": 8, "p": 1}
#: data-dir files that are secrets (relative to the data dir)
SECRET_FILES = ("hub/cookie_secret", "demo-logins.txt", "demo-tokens.txt", "nxhub.toml")


def _fernet(passphrase: str, salt: bytes, n: int, r: int, p: int):
    try:
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
    except ImportError:
        raise InvalidInputError("encrypting secrets needs the 'cryptography' package (pip install cryptography), "
                                "or back up with --no-secrets") from None
    if not passphrase:
        raise InvalidInputError("the backup passphrase is empty")
    key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def present(data_dir: Path) -> list[str]:
    return [rel for rel in SECRET_FILES if (data_dir / rel).is_file()]


def seal(data_dir: Path, names: list[str], passphrase: str) -> tuple[bytes, dict]:
    """The encrypted tar of ``names`` and the KDF parameters the manifest keeps."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel in names:
            tar.add(data_dir / rel, arcname=rel, recursive=False)
    salt = os.urandom(16)
    token = _fernet(passphrase, salt, **SCRYPT).encrypt(buf.getvalue())
    return token, {"cipher": "fernet", "kdf": "scrypt", "salt": salt.hex(), **SCRYPT, "files": names}


def open_sealed(token: bytes, kdf: dict, passphrase: str) -> dict[str, tuple[bytes, int]]:
    """{relative path: (content, mode)} of sealed secrets; a wrong passphrase is a clear error."""
    from cryptography.fernet import InvalidToken

    fernet = _fernet(passphrase, bytes.fromhex(kdf["salt"]), kdf["n"], kdf["r"], kdf["p"])
    try:
        raw = fernet.decrypt(token)
    except InvalidToken:
        raise InvalidInputError("the passphrase does not open this backup's secrets (or restore with --no-secrets)") from None
    out = {}
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r") as tar:
        for member in tar.getmembers():
            if not member.isfile() or member.name not in SECRET_FILES:  # only the known names, never a path out of the dir
                continue
            out[member.name] = (tar.extractfile(member).read(), member.mode & 0o700)
    return out


def write_secrets(data_dir: Path, files: dict[str, tuple[bytes, int]]) -> None:
    for rel, (content, mode) in files.items():
        dest = data_dir / rel
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = dest.with_name(dest.name + ".restoring")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode or 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, dest)
