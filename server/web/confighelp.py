"""What the configuration box says for each gateway: its keys with a one-line help each
(from accounts/config.py, so keys added there show here with no change), and for smsbrana
the table of the service's error codes (from its protocol module)."""

from __future__ import annotations

import msgspec

from sms.model import GatewayType

from ..accounts.config import GATEWAY_HELP, GATEWAY_KEYS, SECRET_KEYS
from ..gateways.smsbrana.protocol import ERRORS as SMSBRANA_ERRORS


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


def gateway_help(gateway: GatewayType) -> GatewayHelp:
    keys = [
        KeyHelp(k.name, k.required, k.name in SECRET_KEYS, k.help) for k in GATEWAY_KEYS[gateway]
    ]
    errors = (
        [(code, info.text) for code, info in sorted(SMSBRANA_ERRORS.items())]
        if gateway is GatewayType.SMSBRANA
        else []
    )
    return GatewayHelp(gateway, GATEWAY_HELP.get(gateway, ""), keys, errors)


def secret_states(gateway: GatewayType, config_text: str) -> list[tuple[str, bool]]:
    """Each secret key of the gateway and whether the stored text says it is set. The
    secret itself never reaches a page; the stored text reads `key = (set)`."""
    set_keys = set()
    for line in config_text.splitlines():
        key, eq, value = (part.strip() for part in line.partition("="))
        if eq and key in SECRET_KEYS and value:
            set_keys.add(key)
    return [(k.name, k.name in set_keys) for k in GATEWAY_KEYS[gateway] if k.name in SECRET_KEYS]
