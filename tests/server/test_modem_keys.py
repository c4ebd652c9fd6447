"""The server checks a modem account's care keys and names what is wrong."""

from __future__ import annotations

import pytest

from server.accounts.config import AccountConfigError, parse_config
from sms.model import GatewayType

BASE = "device = /dev/gsmmodem0\nbaudrate = 115200\npin =\nagent = office-1\n"


def test_good_care_keys_pass_on_line_1_and_line_2() -> None:
    text = BASE + (
        "reset = usb\nreset_after = 90s\ncommand_timeout = 2\nbalance_ussd = *101#\n"
        "balance_every = 6h\nbalance_low = 50,5\nbalance_pattern = kredit (\\d+)\n"
        "reject_calls = false\nline2.device = /dev/gsmmodem1\nline2.baudrate = 115200\n"
        "line2.pin =\nline2.agent = office-1\nline2.reset = off\n"
    )
    parse_config(GatewayType.MODEM, text, agents=["office-1"])


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("reset = reboot", "'reset' must be cfun, usb or off"),
        ("reset_after = soon", "'reset_after' must be a duration such as 120, 90s"),
        ("balance_every = 0", "'balance_every' must be a duration"),
        ("balance_ussd = *101#;ATD", "'balance_ussd' must be a USSD code"),
        ("balance_low = lots", "'balance_low' must be an amount"),
        ("balance_pattern = kredit \\d+", "'balance_pattern' needs a (group)"),
        ("balance_pattern = kredit (", "'balance_pattern' is not a valid regular expression"),
        ("reject_calls = maybe", "'reject_calls' must be true or false"),
    ],
)
def test_a_bad_care_key_is_refused_by_name(line: str, error: str) -> None:
    with pytest.raises(AccountConfigError) as caught:
        parse_config(GatewayType.MODEM, BASE + line, agents=["office-1"])
    assert error in str(caught.value)
