"""Passwords for the web pages: set by an admin, stored only as an Argon2id hash.

Unlike tokens (256 random bits, a plain SHA-256 suffices), a password is something a
person chose, so it gets a slow, salted hash (argon2-cffi's defaults, RFC 9106 low-memory).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 200  # argon2 takes any length; this bounds the work one request can ask for

_hasher = PasswordHasher()  # stateless parameters, not state: safe as a module constant


class WeakPassword(ValueError):
    pass


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"password: at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"password: at most {MAX_LENGTH} characters")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches the stored hash; False for no hash or a wrong one."""
    if not stored or len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
