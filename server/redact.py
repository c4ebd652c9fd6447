"""Credentials out of text that may reach a log line or a message's `detail`: bearer
tokens, smsbridge tokens, the password in a URL's user-info and the values of query
parameters whose names say they are credentials. Pure string work; server/logs.py runs
every log line through it, at every level, whatever logger wrote it."""

from __future__ import annotations

import re

MASK = "[redacted]"

# Query parameter names that carry a credential (compared case-insensitively), e.g.
# smsbrana's `password` and `hash`, a URL gateway's `key` or `apikey`.
SECRET_PARAMS = (
    "password",
    "passwd",
    "pass",
    "pwd",
    "pw",
    "secret",
    "token",
    "key",
    "apikey",
    "api_key",
    "api-key",
    "access_token",
    "auth",
    "authorization",
    "hash",
    "sig",
    "signature",
    "certpasswd",
    "sqlpassword",
    "client_secret",
)

_BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',;]+")
_TOKEN = re.compile(r"\b(sb[ua]_)[A-Za-z0-9_-]{6,}")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@\"']*):[^/\s@\"']*@")
_PARAM = re.compile(
    r"(?i)([?&;](?:" + "|".join(re.escape(n) for n in SECRET_PARAMS) + r")=)[^&#\s\"']*"
)


def redact(text: str) -> str:
    text = _BEARER.sub(rf"\1{MASK}", text)
    text = _TOKEN.sub(rf"\1{MASK}", text)
    text = _USERINFO.sub(rf"\1:{MASK}@", text)
    return _PARAM.sub(rf"\1{MASK}", text)
