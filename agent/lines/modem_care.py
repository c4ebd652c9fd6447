"""A modem line's care settings from the account's keys (recovery, calls, balance), and
the balance watch: the SIM's credit by USSD every `balance_every` (docs/modem.md)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from agent.modem.interface import Modem, ModemError
from agent.modem.ladder import RESET_MODES
from agent.modem.ussd import (
    DEFAULT_BALANCE_PATTERN,
    USSDError,
    check_code,
    check_pattern,
    parse_balance,
)
from bridge import protocol as p

log = logging.getLogger(__name__)
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


class LineCare(msgspec.Struct, kw_only=True, frozen=True):
    """A modem line's balance watch (USSD) from the account's keys."""

    balance_ussd: str | None = None
    balance_every: float = 6 * 3600.0
    balance_pattern: str = DEFAULT_BALANCE_PATTERN
    balance_low: Decimal | None = None
    balance_first: float = 2.0  # seconds after the modem is ready: the first query


def seconds_of(key: str, value: str, line: str) -> float:
    """ "120", "90s", "2m", "6h", "1d" → seconds; a clear error otherwise."""
    text = value.strip().lower()
    scale = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(text[-1:])
    number = text[:-1] if scale else text
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        raise ValueError(
            f"line {line}: {key} = {value!r} is not a duration (e.g. 120, 90s, 2m, 6h)"
        ) from None
    if seconds <= 0:
        raise ValueError(f"line {line}: {key} = {value!r} must be more than 0")
    return seconds


def care_tuning(values: dict[str, str], line: str) -> dict[str, Any]:
    """The ModemConfig fields the care keys set (reset, timeouts, calls)."""
    reset = (values.get("reset") or "cfun").strip().lower()
    if reset not in RESET_MODES:
        raise ValueError(f"line {line}: reset = {reset!r}: one of cfun, usb, off")
    tuning: dict[str, Any] = {"reset": reset}
    if values.get("reset_after", "").strip():
        tuning["reset_after"] = seconds_of("reset_after", values["reset_after"], line)
    if values.get("command_timeout", "").strip():
        timeout = seconds_of("command_timeout", values["command_timeout"], line)
        tuning["command_timeout"] = timeout
        tuning["prompt_timeout"] = 2 * timeout
    reject = (values.get("reject_calls") or "true").strip().lower()
    if reject not in _TRUE + _FALSE:
        raise ValueError(f"line {line}: reject_calls = {reject!r}: true or false")
    tuning["reject_calls"] = reject in _TRUE
    return tuning


def line_care(push: p.ConfigPush) -> LineCare:
    values, line = push.config, push.line
    code = (values.get("balance_ussd") or "").strip()
    if not code:
        return LineCare()
    try:
        check_code(code)
        pattern = check_pattern(values.get("balance_pattern") or DEFAULT_BALANCE_PATTERN)
    except USSDError as exc:
        raise ValueError(f"line {line}: {exc}") from None
    low_text = (values.get("balance_low") or "").strip().replace(",", ".")
    try:
        low = Decimal(low_text) if low_text else None
    except InvalidOperation:
        raise ValueError(f"line {line}: balance_low = {low_text!r} is not an amount") from None
    every = values.get("balance_every", "").strip()
    return LineCare(
        balance_ussd=code,
        balance_every=seconds_of("balance_every", every, line) if every else 6 * 3600.0,
        balance_pattern=pattern,
        balance_low=low,
    )


class BalanceWatch:
    """Asks the credit every `balance_every` while the modem is connected; a failed
    query is tried again within 10 minutes. `changed` tells the line's status."""

    def __init__(self, line: str, care: LineCare, modem: Modem, changed: Callable[[], None]):
        self.line = line
        self.care = care
        self.modem = modem  # connected, ussd()
        self.changed = changed
        self.balance: Decimal | None = None
        self.balance_at: datetime | None = None

    @property
    def low(self) -> bool:
        low = self.care.balance_low
        return low is not None and self.balance is not None and self.balance < low

    def warning(self) -> str:
        return f"SIM balance {self.balance} is below {self.care.balance_low}" if self.low else ""

    async def run(self) -> None:
        care = self.care
        await asyncio.sleep(care.balance_first)
        while True:
            await self.modem.connected.wait()
            try:
                # ussd() takes the driver's send lock: never in the middle of a send.
                answer = await self.modem.ussd(care.balance_ussd)
                amount = parse_balance(answer.text, care.balance_pattern)
            except (USSDError, ModemError) as exc:
                log.warning("line %s: balance query failed: %s", self.line, exc)
                await asyncio.sleep(min(care.balance_every, 600.0))
                continue
            if amount is None:
                log.warning(
                    "line %s: no amount in the answer to %s: %r (adjust balance_pattern)",
                    self.line,
                    care.balance_ussd,
                    answer.text,
                )
            else:
                self.balance, self.balance_at = amount, datetime.now(UTC)
                if self.low:
                    log.warning("line %s: %s", self.line, self.warning())
                self.changed()
            await asyncio.sleep(care.balance_every)
