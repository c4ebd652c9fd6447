"""An SMS account's configuration: the seed's `key = value` text, parsed and checked per gateway.

Pure code, no I/O: the caller passes the names of the registered agents. Secrets are split
from the rest so that the text kept in the database and shown by the API never holds them;
it says `password = (set)` instead.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Collection, Mapping

import msgspec

from sms.model import GatewayType

from ..redact import redact
from ..routing import timing
from . import urlsecrets
from .modem_keys import check_modem_care

SET_MARK = "(set)"  # what the API shows instead of a secret, and accepts back to keep it
SECRET_KEYS = frozenset({"password", "certPasswd", "sqlPassword", "pin"})
# Keys holding a URL: its password and credential-like query parameters are secrets too
# (urlsecrets.py). The stored text shows them as (set); the whole URL is a secret.
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})

# SMSLib's JDBC driver classes, mapped to the SQLAlchemy dialect the agent will use.
JDBC_DRIVERS = {
    "com.mysql.jdbc.Driver": "mysql",
    "com.mysql.cj.jdbc.Driver": "mysql",
    "org.mariadb.jdbc.Driver": "mariadb",
    "org.postgresql.Driver": "postgresql",
    "com.microsoft.sqlserver.jdbc.SQLServerDriver": "mssql",
    "net.sourceforge.jtds.jdbc.Driver": "mssql",
    "oracle.jdbc.driver.OracleDriver": "oracle",
    "oracle.jdbc.OracleDriver": "oracle",
    "org.sqlite.JDBC": "sqlite",
}
SQL_DIALECTS = frozenset(JDBC_DRIVERS.values())


class Kind(enum.Enum):
    TEXT = "text"  # anything, may be empty
    NONEMPTY = "nonempty"
    BOOL = "bool"
    HTTP_URL = "http_url"
    URL_TEMPLATE = "url_template"  # http(s) URL holding [PHONE] and [MSG]
    ABS_PATH = "abs_path"
    POSITIVE_INT = "positive_int"
    PIN = "pin"  # empty (no PIN) or 4-8 digits
    SQL_DRIVER = "sql_driver"
    SQL_URL = "sql_url"
    AGENT = "agent"
    MODEM_CARE = "modem_care"  # a modem line's recovery/balance key (modem_keys.py)
    QUIET_HOURS = "quiet_hours"  # HH:MM-HH:MM, may wrap midnight
    QUIET_DAYS = "quiet_days"  # mon,...,sun
    TIME_ZONE = "time_zone"  # an IANA zone name
    PERCENT = "percent"  # 1-100, with or without %
    CHOICE = "choice"  # one of Key.choices


class Key(msgspec.Struct, frozen=True):
    name: str
    kind: Kind
    required: bool = True
    help: str = ""  # one line, shown beside the configuration box on the accounts page
    choices: tuple[str, ...] = ()  # Kind.CHOICE: the values allowed


def _agent_keys(*keys: Key) -> tuple[Key, ...]:
    return (*keys, Key("agent", Kind.AGENT, help="the agent (modem host) that runs this line"))


# An agent-backed account may have several lines: the unprefixed keys describe line 1
# (named after the account), `lineN.<key>` (N = 2, 3, ...) adds line N with the
# gateway's keys. These keys pace each line, unprefixed for line 1, prefixed for line N.
PACING_KEYS: tuple[Key, ...] = (
    Key("per_minute", Kind.POSITIVE_INT, False, "SMS segments this line sends per minute at most"),
    Key("per_day", Kind.POSITIVE_INT, False, "SMS segments this line sends per 24 hours at most"),
    Key(
        "per_recipient_day",
        Kind.POSITIVE_INT,
        False,
        "SMS segments this line sends to one number per 24 hours at most",
    ),
)
# Account-level routing keys of agent-backed accounts (unprefixed only).
ROUTING_KEYS: tuple[Key, ...] = (
    Key(
        "fallback",
        Kind.NONEMPTY,
        False,
        "a web-gateway account that sends when every line is down, over budget or failing",
    ),
    Key(
        "fallback_after",
        Kind.POSITIVE_INT,
        False,
        "seconds every line must be unusable before the fallback sends (default 300)",
    ),
)
FALLBACK_AFTER_DEFAULT = 300
# A modem line's recovery, SIM balance and calls (agent/lines/modem.py checks the values).
MODEM_CARE_KEYS: tuple[Key, ...] = (
    Key("reset", Kind.MODEM_CARE, False, "how far recovery goes: cfun (default), usb or off"),
    Key("reset_after", Kind.MODEM_CARE, False, "seconds each recovery step gets (default 120)"),
    Key("command_timeout", Kind.MODEM_CARE, False, "seconds the modem has to answer (default 5)"),
    Key(
        "balance_ussd", Kind.MODEM_CARE, False, "USSD code that asks the SIM's credit (e.g. *101#)"
    ),
    Key("balance_every", Kind.MODEM_CARE, False, "how often the credit is asked (default 6h)"),
    Key("balance_pattern", Kind.MODEM_CARE, False, "regex, group 1 the amount (default: Czech)"),
    Key("balance_low", Kind.MODEM_CARE, False, "below this credit the line warns (e.g. 50)"),
    Key("reject_calls", Kind.BOOL, False, "hang up incoming calls and list them (default true)"),
)
# When, how and to whom (every gateway, unprefixed only): quiet time, bulk share, opt-out.
CONTROL_KEYS: tuple[Key, ...] = (
    Key(
        "quiet_hours",
        Kind.QUIET_HOURS,
        False,
        "HH:MM-HH:MM when nothing is sent (may wrap midnight, e.g. 21:00-08:00)",
    ),
    Key("quiet_days", Kind.QUIET_DAYS, False, "whole days when nothing is sent (e.g. sat,sun)"),
    Key(
        "time_zone",
        Kind.TIME_ZONE,
        False,
        "the time zone of quiet_hours and quiet_days (default: the server's time_zone)",
    ),
    Key(
        "quiet_hours_high",
        Kind.CHOICE,
        False,
        "send: priority high goes in quiet time too; wait (default): it waits",
        ("send", "wait"),
    ),
    Key(
        "bulk_share",
        Kind.PERCENT,
        False,
        "the share of each line's per_minute that bulk messages may use (default 50, in per cent)",
    ),
    Key(
        "optout_keywords",
        Kind.TEXT,
        False,
        "words that, as an incoming SMS (or its first word), opt its sender out "
        "(default STOP, ODHLASIT)",
    ),
    Key(
        "optout_scope",
        Kind.CHOICE,
        False,
        "account (default): an opt-out stops this account's sends; all: every account's",
        ("account", "all"),
    ),
    Key(
        "optout_transactional",
        Kind.CHOICE,
        False,
        "allow: category transactional is sent to opted-out numbers; block (default)",
        ("allow", "block"),
    ),
)
LINE_PREFIX = re.compile(r"^line(\d+)\.(.+)$")


_CONTROL_NAMES = frozenset(k.name for k in CONTROL_KEYS)


def base_key(name: str) -> tuple[int, str]:
    """`line2.pin` → (2, "pin"); an unprefixed key is line 1's (or the account's)."""
    match = LINE_PREFIX.match(name)
    return (int(match.group(1)), match.group(2)) if match else (1, name)


def is_secret(name: str) -> bool:
    return base_key(name)[1] in SECRET_KEYS


# The seed's key names per gateway (DESIGN.md, "Gateway types").
GATEWAY_KEYS: Mapping[GatewayType, tuple[Key, ...]] = {
    GatewayType.SMSBRANA: (
        # Empty login/password are allowed: the first-start account exists before anyone
        # has typed them in; its messages then wait in `queued`.
        Key("login", Kind.TEXT, help="the SMS Connect login (not the web-portal one)"),
        Key("password", Kind.TEXT, help="the SMS Connect password (secret)"),
        Key(
            "url",
            Kind.HTTP_URL,
            required=False,
            help="the service's address, when not smsbrana's own (replaces both hosts)",
        ),
        Key(
            "hash",
            Kind.BOOL,
            required=False,
            help="true (default): send an MD5 of password, time and salt, never the password",
        ),
        Key(
            "push",
            Kind.BOOL,
            required=False,
            help="true: smsbrana calls /api/gateways/smsbrana/push?account=<id> when an SMS "
            "arrives (with poll incoming on); other pushes are refused",
        ),
    ),
    GatewayType.O2: (
        Key("id", Kind.NONEMPTY, help="the BA ID that O2 assigned to this connection"),
        Key("cert", Kind.NONEMPTY, help="path of the client certificate (PKCS#12 file) from O2"),
        Key("certPasswd", Kind.TEXT, help="the password of the PKCS#12 file (secret)"),
        # O2's server certificate comes from its own CA ("CA O2 CZ"): a PEM bundle to trust.
        Key(
            "ca",
            Kind.ABS_PATH,
            required=False,
            help="a PEM bundle of O2's CA; with it only that CA is trusted",
        ),
        # The GET/POST endpoint, when not O2's own (a test system, a clone of the interface).
        Key(
            "url",
            Kind.HTTP_URL,
            required=False,
            help="the SMS Connector endpoint, when not O2's own (a test system)",
        ),
    ),
    GatewayType.URL: (
        Key(
            "url",
            Kind.URL_TEMPLATE,
            help="http(s) URL called with GET; [PHONE] and [MSG] are replaced, URL-encoded",
        ),
    ),
    GatewayType.SMSTOOLS: _agent_keys(
        Key("in", Kind.ABS_PATH, help="smsd's incoming directory (e.g. /var/spool/sms/incoming)"),
        Key("out", Kind.ABS_PATH, help="smsd's outgoing directory (e.g. /var/spool/sms/outgoing)"),
        Key("sent", Kind.ABS_PATH, required=False, help="smsd's sent directory, if it keeps one"),
        Key(
            "failed", Kind.ABS_PATH, required=False, help="smsd's failed directory, if it keeps one"
        ),
        Key("modem", Kind.NONEMPTY, help="the modem's name in smsd.conf (e.g. GSM1)"),
    ),
    GatewayType.SMSLIB: _agent_keys(
        Key(
            "sqlDriver",
            Kind.SQL_DRIVER,
            help="JDBC driver class (e.g. com.mysql.jdbc.Driver) or a SQLAlchemy dialect",
        ),
        Key("sqlURL", Kind.SQL_URL, help="the SMSServer database: a JDBC or SQLAlchemy URL"),
        Key("sqlUser", Kind.TEXT, help="database user"),
        Key("sqlPassword", Kind.TEXT, help="database password (secret)"),
        Key("gatewayId", Kind.NONEMPTY, help="SMSServer's gateway id that sends (gateway_id)"),
    ),
    GatewayType.MODEM: _agent_keys(
        Key("device", Kind.ABS_PATH, help="the modem's serial port (e.g. /dev/gsmmodem0)"),
        Key("baudrate", Kind.POSITIVE_INT, help="serial speed (e.g. 115200)"),
        Key("pin", Kind.PIN, help="the SIM's PIN, 4-8 digits, or empty for none (secret)"),
        Key(
            "smsc",
            Kind.NONEMPTY,
            required=False,
            help="SMS centre number, when not the SIM's own (e.g. +420602909909)",
        ),
        *MODEM_CARE_KEYS,
    ),
    GatewayType.GAMMU: _agent_keys(
        Key("device", Kind.NONEMPTY, help="gammu's device (e.g. /dev/gsmmodem0)"),
        Key("connection", Kind.NONEMPTY, help="gammu's connection type (e.g. at, at115200)"),
        Key("model", Kind.NONEMPTY, required=False, help="gammu's model, when it must be forced"),
    ),
}


# One line per gateway, shown above its keys on the accounts page.
GATEWAY_HELP: Mapping[GatewayType, str] = {
    GatewayType.SMSBRANA: "smsbrana.cz SMS Connect (HTTP API), sent from this server",
    GatewayType.O2: "O2 SMS Connector (HTTPS with a client certificate), sent from this server",
    GatewayType.URL: "any HTTP service: one GET per message, a 2xx answer means sent",
    GatewayType.SMSTOOLS: "SMS Server Tools 3 (smsd) spool directories, on an agent's host",
    GatewayType.SMSLIB: "SMSLib SMSServer's database tables, on an agent's host",
    GatewayType.MODEM: "a GSM modem on a serial port, driven with AT commands by an agent",
    GatewayType.GAMMU: "a phone or modem through libgammu, on an agent's host",
}


class Problem(msgspec.Struct, frozen=True):
    """One thing wrong with a configuration; `line` is 1-based, None for a missing key."""

    line: int | None
    key: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


class AccountConfigError(ValueError):
    """The configuration text is not valid for its gateway; `problems` lists every fault."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class AccountConfig(msgspec.Struct, frozen=True):
    """A checked configuration. `text` is safe to store and show: secrets read `(set)`."""

    gateway: GatewayType
    text: str
    values: dict[str, str]  # every key but the secrets
    secrets: dict[str, str]

    def flag(self, key: str, default: bool) -> bool:
        raw = self.values.get(key)
        return default if raw is None else raw.lower() in _TRUE


def _check_value(key: Key, value: str, agents: Collection[str]) -> str | None:
    """Why `value` is wrong for `key`, or None when it is fine."""
    if key.kind is Kind.CHOICE:
        if value.lower() in key.choices:
            return None
        return f"{key.name!r} must be one of {', '.join(key.choices)}, not {value!r}"
    return _CHECKS[key.kind](key.name, value, agents)


def _by_parser(parse: Callable[[str], object]) -> Callable[[str, str, Collection[str]], str | None]:
    def check(name: str, value: str, _: Collection[str]) -> str | None:
        try:
            parse(value)
        except ValueError as exc:
            return f"{name!r}: {exc}"
        return None

    return check


def _percent(name: str, value: str, _: Collection[str]) -> str | None:
    number = value.rstrip("% ")
    if number.isdigit() and 1 <= int(number) <= 100:
        return None
    return f"{name!r} must be a percentage from 1 to 100 (e.g. 50%), not {value!r}"


def _nonempty(name: str, value: str, _: Collection[str]) -> str | None:
    return None if value else f"{name!r} must not be empty"


def _bool(name: str, value: str, _: Collection[str]) -> str | None:
    if value.lower() in _TRUE | _FALSE:
        return None
    return f"{name!r} must be true or false, not {value!r}"


def _http_url(name: str, value: str, _: Collection[str]) -> str | None:
    if value.startswith(("http://", "https://")) and len(value) > len("https://"):
        return None
    return f"{name!r} must be an http:// or https:// URL, not {value!r}"


def _url_template(name: str, value: str, agents: Collection[str]) -> str | None:
    missing = [mark for mark in ("[PHONE]", "[MSG]") if mark not in value]
    if missing:
        return f"{name!r} must contain [PHONE] and [MSG] (missing {' and '.join(missing)})"
    return _http_url(name, value, agents)


def _abs_path(name: str, value: str, _: Collection[str]) -> str | None:
    if value.startswith("/"):
        return None
    return f"{name!r} must be an absolute path (starting with /), not {value!r}"


def _positive_int(name: str, value: str, _: Collection[str]) -> str | None:
    if value.isascii() and value.isdigit() and int(value) > 0:  # not '²': int() refuses it
        return None
    return f"{name!r} must be a positive whole number, not {value!r}"


def _pin(name: str, value: str, _: Collection[str]) -> str | None:
    if value == "" or (value.isascii() and value.isdigit() and 4 <= len(value) <= 8):
        return None
    # The value is a secret: say what is wrong without repeating it.
    return f"{name!r} must be empty (no PIN) or 4 to 8 digits"


def _sql_driver(name: str, value: str, _: Collection[str]) -> str | None:
    if value in JDBC_DRIVERS or value in SQL_DIALECTS:
        return None
    known = ", ".join(sorted(JDBC_DRIVERS))
    return f"{name!r}: unknown driver {value!r} (known: {known}, or a SQLAlchemy dialect)"


def _sql_url(name: str, value: str, _: Collection[str]) -> str | None:
    if value.startswith("jdbc:") or "://" in value:
        return None
    return f"{name!r} must be a JDBC URL (jdbc:...) or a SQLAlchemy URL, not {value!r}"


def _agent(name: str, value: str, agents: Collection[str]) -> str | None:
    if not value:
        return f"{name!r} must name the agent that runs this account"
    if value not in agents:
        known = ", ".join(sorted(agents)) or "none registered yet"
        return (
            f"{name!r}: unknown agent {value!r} (known: {known}; register it with POST /api/agents)"
        )
    return None


_URL_KINDS = frozenset({Kind.HTTP_URL, Kind.URL_TEMPLATE, Kind.SQL_URL})

_CHECKS: dict[Kind, Callable[[str, str, Collection[str]], str | None]] = {
    Kind.TEXT: lambda _n, _v, _a: None,
    Kind.NONEMPTY: _nonempty,
    Kind.BOOL: _bool,
    Kind.HTTP_URL: _http_url,
    Kind.URL_TEMPLATE: _url_template,
    Kind.ABS_PATH: _abs_path,
    Kind.POSITIVE_INT: _positive_int,
    Kind.PIN: _pin,
    Kind.SQL_DRIVER: _sql_driver,
    Kind.SQL_URL: _sql_url,
    Kind.AGENT: _agent,
    Kind.MODEM_CARE: check_modem_care,
    Kind.QUIET_HOURS: _by_parser(timing.parse_hours),
    Kind.QUIET_DAYS: _by_parser(timing.parse_days),
    Kind.TIME_ZONE: _by_parser(timing.check_zone),
    Kind.PERCENT: _percent,
}


def parse_config(
    gateway: GatewayType,
    text: str,
    *,
    agents: Collection[str] = (),
    stored_secrets: Mapping[str, str] | None = None,
    fallbacks: Collection[str] | None = None,
) -> AccountConfig:
    """Parse and check `text` for `gateway`, raising AccountConfigError with every problem.

    `stored_secrets` are the account's current secrets: a secret given as `(set)` keeps
    its stored value, so a configuration read from the API can be sent back unchanged.
    `fallbacks`: the accounts a `fallback` key may name (None: not checked here).
    """
    gateway_keys = {key.name: key for key in GATEWAY_KEYS[gateway]}
    line_keys = dict(gateway_keys)
    spec = dict(gateway_keys)
    if gateway.runs_on_agent:
        line_keys.update({key.name: key for key in PACING_KEYS})
        spec.update(line_keys)
        spec.update({key.name: key for key in ROUTING_KEYS})
    spec.update({key.name: key for key in CONTROL_KEYS})
    stored = stored_secrets or {}
    problems: list[Problem] = []
    values: dict[str, str] = {}
    secrets: dict[str, str] = {}
    out_lines: list[str] = []
    seen: dict[str, int] = {}
    extra_lines: set[int] = set()

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            out_lines.append(raw.rstrip())
            continue
        name, eq, value = (part.strip() for part in line.partition("="))
        if not eq or not name:
            problems.append(Problem(number, None, f"expected 'key = value', got {line!r}"))
            continue
        position, base = base_key(name)
        if position != 1 or LINE_PREFIX.match(name):
            if not gateway.runs_on_agent:
                problems.append(
                    Problem(number, name, f"gateway {gateway} has one line: no {name!r}")
                )
                continue
            if position < 2:
                problems.append(
                    Problem(number, name, f"{name!r}: extra lines are numbered from 2 (line2.)")
                )
                continue
            key = line_keys.get(base)
            if key is None:
                known = ", ".join(line_keys)
                problems.append(
                    Problem(number, name, f"unknown key {base!r} for line {position} ({known})")
                )
                continue
            extra_lines.add(position)
        else:
            key = spec.get(name)
            if key is None:
                # The gateway's own keys; the control keys (quiet_hours, ...) every
                # gateway has are listed on the accounts page.
                known = ", ".join(k for k in spec if k not in _CONTROL_NAMES)
                problems.append(
                    Problem(number, name, f"unknown key {name!r} for gateway {gateway} ({known})")
                )
                continue
        if name in seen:
            problems.append(Problem(number, name, f"{name!r} is already set on line {seen[name]}"))
            continue
        seen[name] = number
        if base in SECRET_KEYS:
            if value == SET_MARK:
                if not stored.get(name):
                    problems.append(
                        Problem(number, name, f"{name!r} says {SET_MARK} but none is stored")
                    )
                    continue
                value = stored[name]
            why = _check_value(key, value, agents)
            if why:
                problems.append(Problem(number, name, _named(why, key.name, name)))
                continue
            secrets[name] = value
            # An empty secret (the first-start account) shows as empty, not as "(set)".
            out_lines.append(f"{name} = {SET_MARK if value else ''}")
            continue
        if key.kind in _URL_KINDS:
            if urlsecrets.SET_MARK in value:
                try:
                    value = urlsecrets.restore(value, stored.get(name))
                except urlsecrets.MissingSecret as exc:
                    problems.append(
                        Problem(number, name, f"{name!r} says {SET_MARK} for {exc}, none is stored")
                    )
                    continue
            why = _check_value(key, value, agents)
            if why is None and urlsecrets.has_secrets(value):
                secrets[name] = value  # whole, for the gateway (secrets win over values)
                values[name] = urlsecrets.mask(value)
                out_lines.append(f"{name} = {values[name]}")
                continue
        why = _check_value(key, value, agents)
        if why is None and name == "fallback" and fallbacks is not None:
            why = _fallback(value, fallbacks)
        if why:
            # (A URL's credentials never go into an error text either.)
            why = redact(why) if key.kind in _URL_KINDS else why
            problems.append(Problem(number, name, _named(why, key.name, name)))
            continue
        values[name] = value
        out_lines.append(f"{name} = {value}")

    for key in gateway_keys.values():
        if key.required and key.name not in seen:
            problems.append(
                Problem(None, key.name, f"missing required key {key.name!r} for gateway {gateway}")
            )
    for position in sorted(extra_lines):
        for key in gateway_keys.values():
            name = f"line{position}.{key.name}"
            if key.required and name not in seen:
                problems.append(
                    Problem(None, name, f"missing required key {name!r} for line {position}")
                )
    if problems:
        raise AccountConfigError(problems)
    return AccountConfig(gateway, "\n".join(out_lines).strip("\n"), values, secrets)


def _named(why: str, base: str, name: str) -> str:
    """A check's message names the key as written (`'line2.pin' must ...`)."""
    return why.replace(repr(base), repr(name), 1) if base != name else why


def _fallback(value: str, fallbacks: Collection[str]) -> str | None:
    if value in fallbacks:
        return None
    known = ", ".join(sorted(fallbacks)) or "none yet"
    return f"'fallback': {value!r} is not a web-gateway account (usable: {known})"


def default_config(gateway: GatewayType) -> str:
    """A starting text for a new account: every required key, empty."""
    return "\n".join(f"{key.name} = " for key in GATEWAY_KEYS[gateway] if key.required)


def stored_values(text: str) -> dict[str, str]:
    """The non-secret values of an already checked configuration text."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, eq, value = (part.strip() for part in line.partition("="))
        if eq and key and not key.startswith("#") and not is_secret(key):
            values[key] = value
    return values
