"""The agent's allow-list: which devices, directories and databases the server may
configure here. A pushed configuration that names anything outside it is refused.

Patterns are shell-style globs on absolute paths (`*` within one path segment, `**`
across segments): "/dev/gsmmodem*", "/var/spool/sms/**". Database URLs are matched as
written ("postgresql://*@db.local/*" or the literal URL).
"""

from __future__ import annotations

import os.path
import re
from collections.abc import Iterable
from functools import lru_cache

# The configuration keys that name something on this machine, per gateway.
LOCAL_KEYS = {
    "modem": ("device",),
    "gammu": ("device",),
    "smstools": ("in", "out", "sent", "failed"),
    "smslib": ("sqlURL",),
}


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def _normal(value: str) -> str:
    # Paths are normalised so "/var/spool/sms/../../etc" cannot slip past "/var/spool/sms/**".
    return os.path.normpath(value) if value.startswith("/") else value


def allowed(value: str, patterns: Iterable[str]) -> bool:
    target = _normal(value)
    return any(_compile(p).match(target) for p in patterns)


def refused_keys(gateway: str, config: dict[str, str], patterns: Iterable[str]) -> list[str]:
    """The keys of `config` whose values fall outside the allow-list, as 'key = value'."""
    patterns = list(patterns)
    out = []
    for key in LOCAL_KEYS.get(gateway, ()):
        value = config.get(key, "").strip()
        if value and not allowed(value, patterns):
            out.append(f"{key} = {value}")
    return out
