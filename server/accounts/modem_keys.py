"""Checks of a modem line's care keys (issue 17: recovery, balance, calls), by key name.
The agent checks the same values again (agent/lines/modem.py) before it applies them."""

from __future__ import annotations

import re
from collections.abc import Collection

_DURATION = re.compile(r"^\d+(\.\d+)?[smhd]?$")
_USSD = re.compile(r"^[0-9*#+]{1,160}$")
_AMOUNT = re.compile(r"^\d+([.,]\d+)?$")


def check_modem_care(name: str, value: str, _: Collection[str]) -> str | None:
    """Why `value` is wrong for the care key `name` (base name, no lineN.), or None."""
    base = name.split(".", 1)[1] if name.startswith("line") and "." in name else name
    if base == "reset":
        return None if value in ("cfun", "usb", "off") else f"{name!r} must be cfun, usb or off"
    if base in ("reset_after", "balance_every", "command_timeout"):
        if _DURATION.match(value) and float(value.rstrip("smhd")) > 0:
            return None
        return f"{name!r} must be a duration such as 120, 90s, 2m or 6h, not {value!r}"
    if base == "balance_ussd":
        return None if _USSD.match(value) else f"{name!r} must be a USSD code such as *101#"
    if base == "balance_low":
        return None if _AMOUNT.match(value) else f"{name!r} must be an amount such as 50"
    if base == "balance_pattern":
        try:
            groups = re.compile(value).groups
        except re.error as exc:
            return f"{name!r} is not a valid regular expression: {exc}"
        return None if groups else f"{name!r} needs a (group) around the amount"
    return None if value else f"{name!r} must not be empty"
