"""A modem line's care keys as the agent reads them: values, defaults, clear errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agent.lines.modem import _modem_config
from agent.lines.modem_care import line_care
from bridge import protocol as p


def push(**config: str) -> p.ConfigPush:
    return p.ConfigPush(line="GSM1", gateway="modem", config={"device": "/dev/x", **config})


def test_defaults_and_values() -> None:
    cfg = _modem_config(push())
    assert (cfg.reset, cfg.reset_after, cfg.reject_calls) == ("cfun", 120.0, True)
    cfg = _modem_config(push(reset="usb", reset_after="2m", command_timeout="2", reject_calls="no"))
    assert (cfg.reset, cfg.reset_after, cfg.prompt_timeout, cfg.reject_calls) == (
        "usb",
        120.0,
        4.0,
        False,
    )
    care = line_care(push(balance_ussd="*101#", balance_every="30m", balance_low="50,5"))
    assert (care.balance_every, care.balance_low) == (1800.0, Decimal("50.5"))
    assert line_care(push()).balance_ussd is None


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"reset": "reboot"}, "line GSM1: reset = 'reboot': one of cfun, usb, off"),
        ({"reset_after": "soon"}, "line GSM1: reset_after = 'soon' is not a duration"),
        ({"reject_calls": "maybe"}, "reject_calls = 'maybe': true or false"),
    ],
)
def test_bad_recovery_keys_name_the_key(config: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("(", r"\(")):
        _modem_config(push(**config))


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ({"balance_ussd": "*101#;AT"}, "only digits"),
        ({"balance_ussd": "*101#", "balance_pattern": "kredit"}, "no \\(group\\)"),
        ({"balance_ussd": "*101#", "balance_low": "lots"}, "balance_low = 'lots'"),
        ({"balance_ussd": "*101#", "balance_every": "0"}, "must be more than 0"),
    ],
)
def test_bad_balance_keys_name_the_key(config: dict[str, str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        line_care(push(**config))


class Context:
    """What a running line is offered, recording (the bridge's outbox is not needed)."""

    def __init__(self) -> None:
        self.events: list[p.Event] = []

    async def emit(self, event: p.Event) -> p.Event:
        self.events.append(event)
        return event

    def status_changed(self, line: str) -> None:
        pass


async def test_a_modem_hung_before_the_agent_started_is_reset_by_the_opening_line(virtual):
    import asyncio

    from agent.lines.modem import modem_line

    vm = virtual(reboot_seconds=0.1)
    vm.hang("sms")
    line = modem_line(
        push(device=vm.path, reset_after="0.3", command_timeout="0.3", reject_calls="true")
    )
    await line.start(Context())
    try:
        await asyncio.wait_for(line.ready(), 15)
        assert vm.resets == 1 and line.status().resets_today == 1
        assert line.status().rung == "ok" and line.status().up
    finally:
        await line.close()
