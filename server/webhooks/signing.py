"""Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme"):
HMAC-SHA256 over "{webhook-id}.{webhook-timestamp}.{body}" with the secret's bytes (the
base64 after "whsec_"), sent as "v1,<base64>". tests/events check it with the spec's own
Python library."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
MIN_BYTES, MAX_BYTES = 24, 64


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_error(secret: str) -> str | None:
    """Why `secret` cannot be used, or None."""
    if not secret.startswith(PREFIX):
        return f"secret: must start with {PREFIX!r} (or leave it out to have one made)"
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return f"secret: the part after {PREFIX!r} is not base64"
    if not MIN_BYTES <= len(key) <= MAX_BYTES:
        return f"secret: must hold {MIN_BYTES} to {MAX_BYTES} bytes, not {len(key)}"
    return None


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret[len(PREFIX) :])
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": "smsbridge-webhooks",
    }
