"""What the configuration box says for each gateway: its keys with a one-line help each
(from accounts/config.py, so keys added there show here with no change), and for smsbrana
the table of the service's error codes (from its protocol module)."""

from __future__ import annotations

import msgspec

from sms.model import GatewayType

from ..accounts.config import (
    CONTROL_KEYS,
    GATEWAY_HELP,
    GATEWAY_KEYS,
    PACING_KEYS,
    ROUTING_KEYS,
    SECRET_KEYS,
    Key,
    is_secret,
)
from ..gateways.smsbrana.protocol import ERRORS as SMSBRANA_ERRORS
from ..i18n.catalogue import N_


class KeyHelp(msgspec.Struct, frozen=True):
    name: str
    required: bool
    secret: bool
    help: str


class GatewayHelp(msgspec.Struct, frozen=True):
    gateway: GatewayType
    summary: str
    keys: list[KeyHelp]
    errors: list[tuple[int, str]]  # code → meaning, for services that answer with codes
    # Agent-backed gateways: how to add lines, and the keys that pace them and fall back.
    lines_note: str = ""
    routing: list[KeyHelp] = []


LINES_NOTE = N_(
    "More modems for this account: repeat the keys with a prefix, e.g. line2.agent, "
    "line2.device, line2.pin (line 2, maybe on another agent); line2.per_minute paces it."
)


def _key_help(key: Key) -> KeyHelp:
    return KeyHelp(key.name, key.required, key.name in SECRET_KEYS, key.help)


def gateway_help(gateway: GatewayType) -> GatewayHelp:
    keys = [_key_help(k) for k in (*GATEWAY_KEYS[gateway], *CONTROL_KEYS)]  # control: any
    errors = (
        [(code, info.text) for code, info in sorted(SMSBRANA_ERRORS.items())]
        if gateway is GatewayType.SMSBRANA
        else []
    )
    if not gateway.runs_on_agent:
        return GatewayHelp(gateway, GATEWAY_HELP.get(gateway, ""), keys, errors)
    routing = [_key_help(k) for k in (*PACING_KEYS, *ROUTING_KEYS)]
    return GatewayHelp(gateway, GATEWAY_HELP.get(gateway, ""), keys, errors, LINES_NOTE, routing)


def secret_states(gateway: GatewayType, config_text: str) -> list[tuple[str, bool]]:
    """Each secret key of the gateway and whether the stored text says it is set. The
    secret itself never reaches a page; the stored text reads `key = (set)`."""
    set_keys: set[str] = set()
    prefixed: list[str] = []  # secrets of lines 2, 3, ... (`line2.pin`)
    for line in config_text.splitlines():
        key, eq, value = (part.strip() for part in line.partition("="))
        if eq and is_secret(key):
            if value:
                set_keys.add(key)
            if key not in SECRET_KEYS:
                prefixed.append(key)
    names = [k.name for k in GATEWAY_KEYS[gateway] if k.name in SECRET_KEYS] + prefixed
    return [(name, name in set_keys) for name in names]
