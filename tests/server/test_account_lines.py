"""Several lines per agent-backed account, their pacing and the fallback account: the
configuration keys (pure, no database)."""

from __future__ import annotations

import pytest

from server.accounts.config import AccountConfigError, parse_config, stored_values
from server.accounts.lines import account_lines, fallback_of
from sms.model import GatewayType

AGENTS = ("office-1", "office-2")
TWO_LINES = (
    "device = /dev/gsmmodem0\nbaudrate = 115200\npin = 1234\nagent = office-1\n"
    "per_minute = 6\nper_day = 500\n"
    "line2.agent = office-2\nline2.device = /dev/gsmmodem1\nline2.baudrate = 9600\n"
    "line2.pin = 4321\nline2.per_recipient_day = 20\n"
    "fallback = smsbrana.cz\nfallback_after = 120"
)


def problems(gateway: GatewayType, text: str, **kw: object) -> list[str]:
    with pytest.raises(AccountConfigError) as info:
        parse_config(gateway, text, agents=AGENTS, **kw)  # type: ignore[arg-type]
    return [str(p) for p in info.value.problems]


def test_a_second_line_is_described_by_prefixed_keys_and_its_secret_stays_secret() -> None:
    cfg = parse_config(GatewayType.MODEM, TWO_LINES, agents=AGENTS, fallbacks=["smsbrana.cz"])
    assert cfg.secrets == {"pin": "1234", "line2.pin": "4321"}
    assert "4321" not in cfg.text
    assert "line2.pin = (set)" in cfg.text
    assert "line2.pin" not in stored_values(cfg.text)


def test_lines_are_named_after_the_account_and_carry_their_limits() -> None:
    cfg = parse_config(GatewayType.MODEM, TWO_LINES, agents=AGENTS)
    first, second = account_lines("GSM", cfg.values, cfg.secrets)
    assert (first.name, first.agent, first.per_minute, first.per_day) == (
        "GSM",
        "office-1",
        6,
        500,
    )
    assert first.config == {"device": "/dev/gsmmodem0", "baudrate": "115200", "pin": "1234"}
    assert (second.name, second.agent, second.position) == ("GSM#2", "office-2", 2)
    assert second.config == {"device": "/dev/gsmmodem1", "baudrate": "9600", "pin": "4321"}
    assert (second.per_minute, second.per_recipient_day) == (None, 20)
    assert fallback_of(cfg.values) == ("smsbrana.cz", 120)


def test_an_account_without_line_keys_is_one_line_as_before() -> None:
    cfg = parse_config(
        GatewayType.MODEM,
        "device = /dev/gsmmodem0\nbaudrate = 115200\npin =\nagent = office-1",
        agents=AGENTS,
    )
    (line,) = account_lines("GSM1", cfg.values, cfg.secrets)
    assert (line.name, line.per_minute, line.per_day, line.per_recipient_day) == (
        "GSM1",
        None,
        None,
        None,
    )
    assert fallback_of(cfg.values) == (None, 300)


def test_a_line_missing_a_required_key_is_named_with_its_number() -> None:
    text = "device = /dev/g0\nbaudrate = 1\npin =\nagent = office-1\nline3.device = /dev/g1"
    assert problems(GatewayType.MODEM, text) == [
        "missing required key 'line3.baudrate' for line 3",
        "missing required key 'line3.pin' for line 3",
        "missing required key 'line3.agent' for line 3",
    ]


def test_a_bad_value_on_a_line_names_the_text_line_and_the_prefixed_key() -> None:
    text = (
        "device = /dev/g0\nbaudrate = 1\npin =\nagent = office-1\n"
        "line2.device = /dev/g1\nline2.baudrate = 1\nline2.pin = 12\nline2.agent = office-9\n"
        "line2.per_minute = many"
    )
    found = problems(GatewayType.MODEM, text)
    assert found[0] == "line 7: 'line2.pin' must be empty (no PIN) or 4 to 8 digits"
    assert found[1].startswith("line 8: 'line2.agent': unknown agent 'office-9'")
    assert found[2] == "line 9: 'line2.per_minute' must be a positive whole number, not 'many'"


def test_line_numbers_start_at_two_and_keys_must_be_the_gateways() -> None:
    base = "device = /dev/g0\nbaudrate = 1\npin =\nagent = office-1\n"
    assert problems(GatewayType.MODEM, base + "line1.device = /dev/g1")[0] == (
        "line 5: 'line1.device': extra lines are numbered from 2 (line2.)"
    )
    assert problems(GatewayType.MODEM, base + "line2.fallback = x")[0].startswith(
        "line 5: unknown key 'fallback' for line 2"
    )


def test_web_gateways_have_neither_lines_nor_pacing() -> None:
    found = problems(GatewayType.URL, "url = http://a/[PHONE][MSG]\nline2.url = x\nper_minute = 5")
    assert found[0] == "line 2: gateway url has one line: no 'line2.url'"
    assert found[1].startswith("line 3: unknown key 'per_minute' for gateway url")


def test_the_fallback_must_be_a_known_web_gateway_account() -> None:
    text = "device = /dev/g0\nbaudrate = 1\npin =\nagent = office-1\nfallback = GSM2"
    assert problems(GatewayType.MODEM, text, fallbacks=["smsbrana.cz"]) == [
        "line 5: 'fallback': 'GSM2' is not a web-gateway account (usable: smsbrana.cz)"
    ]
