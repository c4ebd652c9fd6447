"""The agent's allow-list: which devices, directories and databases the server may
configure here. A pushed configuration is checked key by key before any line sees it;
one key that names something outside `allow`, or that no line of the gateway knows,
refuses the whole push (docs/security-agent.md).

Path patterns are shell-style globs on absolute paths (`*` within one path segment, `**`
across segments): "/dev/gsmmodem*", "/var/spool/sms/**". Database patterns are URLs
(`postgresql://db.local/smslib`, `jdbc:mysql://10.0.0.5:3306/*`); an SQLite database is
a file and is allowed by a path pattern ("/var/lib/smslib/**"). See agent/spool/smslib_allow.py.
"""

from __future__ import annotations

import enum
import os
import re
import stat
from collections.abc import Iterable, Mapping
from functools import lru_cache


class Kind(enum.Enum):
    DIRECTORY = "directory"  # a directory the line reads, writes or moves files in
    DEVICE = "device"  # a serial port (a udev symlink to a character device is fine)
    DATABASE = "database"  # SMSLib's sqlURL
    VALUE = "value"  # no path: the line's own decoding checks it


D, V = Kind.DIRECTORY, Kind.VALUE

# Every key a pushed configuration may carry, per gateway, and which of them name
# something on this machine. A key not listed here is refused, so a key a line accepts
# must be declared here to be pushed at all (tests/bridge/test_allow.py checks that the
# spool lines' config Structs and this table agree).
PUSHED_KEYS: Mapping[str, Mapping[str, Kind]] = {
    "modem": {
        "device": Kind.DEVICE,
        "baudrate": V,
        "pin": V,
        "smsc": V,
        # the line's care (agent/lines/modem_care.py): recovery, balance, calls
        "reset": V,
        "reset_after": V,
        "command_timeout": V,
        "balance_ussd": V,
        "balance_every": V,
        "balance_pattern": V,
        "balance_low": V,
        "reject_calls": V,
    },
    "gammu": {
        "device": Kind.DEVICE,
        "connection": V,
        "model": V,
        "baudrate": V,
        "pin": V,
        "smsc": V,
    },
    "smstools": {
        "in": D,
        "out": D,
        "sent": D,
        "failed": D,
        "report": D,
        "archive": D,
        "modem": V,
        "alphabet": V,
        "delete_incoming": V,
        "datetime_format": V,
        "settle_seconds": V,
        "retry_seconds": V,
        "forget_after_seconds": V,
    },
    "smslib": {
        "sqlURL": Kind.DATABASE,
        "sqlDriver": V,
        "sqlUser": V,
        "sqlPassword": V,
        "gatewayId": V,
        "table_out": V,
        "table_in": V,
        "poll_seconds": V,
        "batch": V,
        "plus_prefix": V,
        "forget_after_seconds": V,
    },
}

# Keys the agent sets itself: a push that carries one is refused, not obeyed.
AGENT_OWN_KEYS = frozenset({"state_dir", "poll_incoming"})

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SECRET_WORDS = ("password", "pin", "passwd")


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
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def _resolved_pattern(pattern: str) -> str:
    """The pattern with its literal leading directories resolved (so "/tmp/x/**" still
    matches where /tmp/x is itself a symlink, as the value's real path will say). Not
    cached: the file system may change between two pushes."""
    head, _, _ = pattern.partition("*")
    head = head.partition("?")[0]
    base = head if head.endswith("/") else os.path.dirname(head) + "/"
    if base == "/":
        return pattern
    real = os.path.realpath(base)
    return real.rstrip("/") + "/" + pattern[len(base) :]


def path_patterns(patterns: Iterable[str]) -> list[str]:
    """The entries of `allow` that are path globs (the rest are database URLs)."""
    return [p for p in patterns if p.startswith("/")]


def sqlite_patterns(patterns: Iterable[str]) -> list[str]:
    """SQLite files allowed as URLs, as the first version matched them
    ("sqlite:////var/lib/smslib/sms.db", "jdbc:sqlite:/var/lib/smslib/*.db"): their paths."""
    out = []
    for entry in patterns:
        for prefix in ("sqlite:///", "jdbc:sqlite:"):
            if entry.startswith(prefix) and entry[len(prefix) :].startswith("/"):
                out.append(entry[len(prefix) :])
    return out


def _matches(path: str, patterns: list[str], *, resolved: bool = False) -> bool:
    for p in patterns:
        if _compile(p).match(path) or (resolved and _compile(_resolved_pattern(p)).match(path)):
            return True
    return False


def allowed(value: str, patterns: Iterable[str]) -> bool:
    """True when the path `value` (absolute, as written) is allowed, symlinks resolved."""
    return path_refusal("path", value, list(patterns), Kind.DIRECTORY) is None


def path_refusal(key: str, value: str, patterns: list[str], kind: Kind) -> str | None:
    """Why `value` may not be used for `key`, or None. The value is taken exactly as the
    line will take it: no stripping, no home directory, no relative paths."""
    if not value:
        return f"'{key}' is empty"
    if _CONTROL.search(value):
        return f"'{key}' contains a control character"
    if not value.startswith("/"):
        return f"'{key}' must be an absolute path, not {value!r}"
    if value != value.strip():
        # A line that strips its value (the modem's `device`) would open another path:
        # "/var/spool/sms/.. " is a folder name here and /var/spool there.
        return f"'{key}' has spaces around it: {value!r}"
    if ".." in value.split("/"):
        return f"'{key}' must not contain '..': {value}"
    paths = path_patterns(patterns)
    normal = os.path.normpath(value)
    if not _matches(normal, paths):
        return f"'{key}' = {value} is outside this agent's allow-list"
    real = os.path.realpath(normal)
    # A udev name such as /dev/gsmmodem0 is a symlink to /dev/ttyUSB0: fine for a
    # device when the target is a character device, never for a directory.
    escapes = real != normal and not _matches(real, paths, resolved=True)
    if escapes and not (kind is Kind.DEVICE and _is_char_device(real)):
        return f"'{key}' = {value} leads to {real}, outside this agent's allow-list"
    return None


def _is_char_device(path: str) -> bool:
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def _shown(key: str, value: str) -> str:
    # Reasons go back to the server and into logs: never a secret's value.
    return "(secret)" if any(w in key.lower() for w in _SECRET_WORDS) else repr(value)


def refusals(gateway: str, config: Mapping[str, str], patterns: Iterable[str]) -> list[str]:
    """Why a pushed configuration is refused: one sentence per bad key (empty: fine)."""
    patterns = list(patterns)
    known = PUSHED_KEYS.get(gateway)
    if known is None:
        return [f"no {gateway!r} lines on this agent"]
    files = [*patterns, *sqlite_patterns(patterns)]

    def sqlite_check(key: str, path: str) -> str | None:
        return path_refusal(key, path, files, Kind.DIRECTORY)

    out = []
    for key, value in config.items():
        if key in AGENT_OWN_KEYS:
            out.append(f"'{key}' is set by the agent, not by the server")
            continue
        kind = known.get(key)
        if kind is None:
            out.append(f"unknown key {key!r} for a {gateway} line")  # repr: no log injection
        elif not isinstance(value, str):
            out.append(f"'{key}' = {_shown(key, str(value))} is not text")
        elif kind in (Kind.DIRECTORY, Kind.DEVICE):
            why = path_refusal(key, value, patterns, kind)
            if why:
                out.append(why)
        elif kind is Kind.DATABASE:
            # Here, not at the top: parsing a database URL needs SQLAlchemy, which an agent
            # with no SMSLib line should not load (bench/agent.py measures its memory).
            from agent.spool.smslib_allow import database_refusal

            why = database_refusal(
                config.get("sqlDriver"),
                value,
                config.get("sqlUser"),
                config.get("sqlPassword"),
                patterns,
                path_check=sqlite_check,
            )
            if why:
                out.append(why)
    return out
