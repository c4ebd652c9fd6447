"""API and agent tokens: random, shown once, stored only as a hash.

A token carries 256 random bits, so a plain SHA-256 is enough (no slow KDF needed: there is
nothing to brute-force), and lookup by hash stays a single indexed query.
"""

from __future__ import annotations

import hashlib
import secrets

USER_PREFIX = "sbu_"
AGENT_PREFIX = "sba_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
