"""Credentials inside URL-valued keys (a URL gateway's `http://user:pass@host/?key=...`, a
`sqlURL` with a password): the password of the user-info and the values of query
parameters whose names say they are credentials (server/redact.py's list) are secrets.

Pure string work. `mask` gives the text that may be stored and shown, with `(set)` in
place of each secret part; `restore` puts the stored parts back into a masked URL that
comes back from the API or the form (its other parts may have been edited)."""

from __future__ import annotations

import re

from ..redact import SECRET_PARAMS

SET_MARK = "(set)"

# scheme:// (a JDBC URL's "jdbc:mysql://" too), then user:password@
_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.:-]*://[^/@?#:;]*):(?P<pw>[^/@?#]*)@")
_PARAM = re.compile(
    r"(?P<head>[?&;](?P<name>" + "|".join(re.escape(n) for n in SECRET_PARAMS) + r")=)"
    r"(?P<value>[^&#;]*)",
    re.IGNORECASE,
)


def mask(url: str) -> str:
    """`url` with every secret part (non-empty) replaced by (set)."""
    out = _USERINFO.sub(lambda m: f"{m['head']}:{SET_MARK}@" if m["pw"] else m[0], url)
    return _PARAM.sub(lambda m: m["head"] + SET_MARK if m["value"] else m[0], out)


def has_secrets(url: str) -> bool:
    return mask(url) != url


def _stored_parts(url: str) -> tuple[str | None, dict[str, str]]:
    found = _USERINFO.match(url)
    params: dict[str, str] = {}
    for m in _PARAM.finditer(url):
        params.setdefault(m["name"].lower(), m["value"])
    return (found["pw"] if found else None), params


class MissingSecret(ValueError):
    """A (set) in the URL where the stored one has nothing to put back."""


def restore(masked: str, stored: str | None) -> str:
    """`masked` with each (set) replaced by the stored URL's part of the same place (the
    user-info password, the query parameter of the same name)."""
    password, params = _stored_parts(stored or "")

    def user(m: re.Match[str]) -> str:
        if m["pw"] != SET_MARK:
            return m[0]
        if not password:
            raise MissingSecret("the password in the URL")
        return f"{m['head']}:{password}@"

    def param(m: re.Match[str]) -> str:
        if m["value"] != SET_MARK:
            return m[0]
        value = params.get(m["name"].lower())
        if not value:
            raise MissingSecret(f"the URL's {m['name']!r} parameter")
        return m["head"] + value

    return _PARAM.sub(param, _USERINFO.sub(user, masked))
