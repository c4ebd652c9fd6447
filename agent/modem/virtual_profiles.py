"""The virtual modem playing real families (agent/modem/profiles.py is the driver's
side): identity strings, error words, URC chatter, boot URCs, reset and hang-up
commands, and how USSD answers come back. Facts and sources: docs/modem.md."""

from __future__ import annotations

from typing import Any

from .virtual_config import VirtualConfig

VIRTUAL_PROFILES: dict[str, dict[str, Any]] = {
    "huawei-e3372": {
        "manufacturer": "huawei",
        "model": "E3372",
        "firmware": "22.200.15.00.00",
        "huawei_rssi": True,  # ^RSSI inside answers, COMMAND NOT SUPPORT
        "index0": True,
        "reset_command": "^RESET",
        "boot_urcs": ["^BOOT:20952433,0,0,0,72", "^MODE:5,4"],
        "hangup_commands": ("+CHUP", "H"),
        "ussd_encoding": "gsm7hex",
    },
    "simcom-sim800": {
        "manufacturer": "SIMCOM_Ltd",
        "model": "SIMCOM_SIM800L",
        "firmware": "Revision:1418B04SIM800L24",
        "reset_command": "+CFUN=1,1",
        "boot_urcs": ["RDY", "+CFUN: 1", "+CPIN: READY", "Call Ready", "SMS Ready"],
        "hangup_commands": ("H",),
        "ussd_encoding": "text",
    },
    "simcom-sim7600": {
        "manufacturer": "SIMCOM INCORPORATED",
        "model": "SIMCOM_SIM7600E-H",
        "firmware": "LE20B04SIM7600M22",
        "reset_command": "+CRESET",
        "boot_urcs": ["RDY", "+CPIN: READY", "SMS DONE", "PB DONE"],
        "hangup_commands": ("+CHUP",),
        "ussd_encoding": "text",
    },
    "quectel-ec25": {
        "manufacturer": "Quectel",
        "model": "EC25",
        "firmware": "EC25EFAR06A06M4G",
        "reset_command": "+CFUN=1,1",
        "boot_urcs": ["RDY", "+CFUN: 1", "+CPIN: READY", "+QUSIM: 1", "+QIND: SMS DONE"],
        "hangup_commands": ("+CHUP", "H"),
        "ussd_encoding": "text",
    },
    "telit-le910": {
        "manufacturer": "Telit",
        "model": "LE910C1-EU",
        "firmware": "25.21.660",
        "reset_command": "#REBOOT",
        "hangup_commands": ("H", "+CHUP"),
        "ussd_encoding": "ucs2",
    },
    "ublox-sara": {
        "manufacturer": "u-blox",
        "model": "SARA-U270",
        "firmware": "23.41",
        "reset_command": "+CFUN=16",
        "hangup_commands": ("H", "+CHUP"),
        "ussd_encoding": "text",
    },
}


def virtual_config(profile: str, **overrides: Any) -> VirtualConfig:
    """A VirtualConfig playing `profile` (a key of VIRTUAL_PROFILES), then `overrides`."""
    try:
        values = dict(VIRTUAL_PROFILES[profile])
    except KeyError:
        known = ", ".join(VIRTUAL_PROFILES)
        raise ValueError(f"virtual modem profile {profile!r}: one of {known}") from None
    values.update(overrides)
    return VirtualConfig(**values)
