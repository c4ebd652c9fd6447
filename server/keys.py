"""The server key: encrypts account secrets at rest. It lives in a file outside the database
(a stolen database dump alone reveals no password), created with mode 0600 on first start."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class ServerKeyError(RuntimeError):
    pass


def load_or_create(path: Path) -> Fernet:
    """Read the key at `path`, creating it (0600, never overwriting) when it does not exist."""
    return Fernet(load_or_create_key(path))


def load_or_create_key(path: Path) -> bytes:
    """The key at `path` as written (a Fernet key), created when it does not exist."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key() + b"\n")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ServerKeyError(
            f"server key {path} is readable by others (mode {mode:o}); run: chmod 600 {path}"
        )
    raw = path.read_bytes().strip()
    try:
        Fernet(raw)
    except ValueError as exc:
        raise ServerKeyError(f"server key {path} is not a valid key: {exc}") from None
    return raw


def derive(raw: bytes, purpose: str) -> bytes:
    """A Fernet key for one other purpose (e.g. the web session cookie), derived from the
    server key with HKDF: one file to back up, and no key serves two jobs."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return base64.urlsafe_b64encode(hkdf.derive(raw))


class SecretBox:
    """Seals a dict of secrets into bytes for the database, and opens it again."""

    def __init__(self, fernet: Fernet) -> None:
        self._fernet = fernet

    def seal(self, secrets: dict[str, str]) -> bytes | None:
        if not secrets:
            return None
        return self._fernet.encrypt(json.dumps(secrets, sort_keys=True).encode())

    def open(self, sealed: bytes | None) -> dict[str, str]:
        if not sealed:
            return {}
        try:
            return dict(json.loads(self._fernet.decrypt(sealed)))
        except InvalidToken:
            raise ServerKeyError(
                "an account's secrets do not decrypt with this server key "
                "(was the key file replaced?)"
            ) from None
