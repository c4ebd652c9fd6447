"""What every modem backend offers the agent (AT driver, libgammu), and the shapes of
what goes in and out. The bridge only ever sees these."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

import msgspec

from agent.errors import AgentError

from .error_codes import ErrorClass
from .status import ModemStatus

if TYPE_CHECKING:  # ladder.py and ussd.py are plain modules; only their types are named
    from .ladder import Ladder
    from .ussd import USSDAnswer


class ModemConfig(msgspec.Struct, kw_only=True):
    """An account's `modem` settings plus the knobs tests and technicians turn."""

    device: str
    baudrate: int = 115200
    pin: str | None = None
    smsc: str | None = None  # written with AT+CSCA when the modem has none
    poll_incoming: bool = True  # sweep stored messages at start and every poll_interval
    poll_interval: float = 60.0
    command_timeout: float = 5.0
    prompt_timeout: float = 10.0
    result_timeout: float = 90.0  # +CMGS can take a network round trip (docs/at-modem.md §3.2)
    pin_timeout: float = 20.0
    busy_retries: int = 5  # SIM busy / init in progress (CME 14, CMS 314/515)
    busy_delay: float = 0.5
    send_retries: int = 2  # extra tries of one part after a transient error
    send_retry_delay: float = 5.0
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    status_report_ds: int = 1  # AT+CNMI <ds>: 1 routed +CDS (safe on Quectel/SIMCom)
    # Recovery ladder (agent/modem/ladder.py): how far it may go, how long each rung has.
    reset: str = "cfun"  # cfun | usb | off
    reset_after: float = 120.0
    reset_command: str | None = None  # None: the modem profile's (AT+CFUN=1,1 if generic)
    usb_settle: float = 1.0  # seconds between `authorized` 0 and 1
    sysfs: str = "/sys"
    # USSD: whether the code goes packed as GSM 7-bit hex, and the answer's form
    # (auto, text, ucs2, gsm7hex); None: as the modem profile says.
    ussd_packed: bool | None = None
    ussd_form: str | None = None
    reject_calls: bool = True  # hang up incoming calls (they are reported either way)
    hangup_command: str | None = None  # None: the profile's; AT+CHUP is tried if it fails

    def send_bound(self, parts: int) -> float:
        """The longest a send of `parts` parts can legitimately take: every try of every
        part waiting out prompt and result, the pauses between tries, and the resync
        `AT` after an unanswered PDU. A caller that gives up sooner would call a slow
        network's success `unknown`."""
        tries = 1 + self.send_retries
        per_part = (
            tries * (self.prompt_timeout + self.result_timeout)
            + self.send_retries * self.send_retry_delay
            + self.result_timeout
        )
        return parts * per_part


class Outcome(enum.StrEnum):
    SENT = "sent"  # the modem returned +CMGS: the network accepted it
    FAILED = "failed"  # not sent; `error` says why
    UNKNOWN = "unknown"  # no answer after the PDU: may have been sent; never resend blindly
    NOT_SENT = "not-sent"  # an earlier part failed, this one was not tried


class SentPart(msgspec.Struct, kw_only=True):
    part: int
    parts: int
    outcome: Outcome
    mr: int | None = None
    error: str | None = None
    error_class: str | None = None  # transient / permanent / device
    tries: int = 1


class SendResult(msgspec.Struct, kw_only=True):
    outcome: Outcome  # SENT only if every part was; UNKNOWN if any part is
    parts: list[SentPart]
    error: str | None = None
    error_class: str | None = None

    @property
    def mrs(self) -> list[int | None]:
        return [p.mr for p in self.parts]


class IncomingSMS(msgspec.Struct, kw_only=True):
    sender: str
    text: str
    timestamp: datetime
    smsc: str | None
    pdu: str
    concat_reference: int | None = None
    concat_total: int | None = None
    concat_sequence: int | None = None
    concat_bits: int | None = None
    memory: str | None = None  # where it was stored ("SM"), None when routed (+CMT)
    index: int | None = None


class DeliveryReport(msgspec.Struct, kw_only=True):
    mr: int
    recipient: str
    status: int
    meaning: str
    delivered: bool
    final: bool
    discharge_time: datetime
    message_id: str | None = None  # the send() that this reports on, when matched
    part: int | None = None


OnMessage = Callable[[IncomingSMS], Awaitable[None]]
OnReport = Callable[[DeliveryReport], Awaitable[None]]
OnCall = Callable[[str, datetime], Awaitable[None]]  # caller's number, when it rang


class ModemError(AgentError):
    """A modem problem in words a person can act on; `error_class` for machines."""

    def __init__(self, message: str, error_class: ErrorClass | str = ErrorClass.DEVICE) -> None:
        super().__init__(message)
        # A StrEnum: it still equals the plain strings ("transient", ...) callers compare.
        self.error_class = ErrorClass(error_class)


class Modem(Protocol):
    """One GSM modem. Both backends implement it; several run side by side."""

    config: ModemConfig

    async def open(self) -> None:
        """Open the port, initialise, unlock the SIM; raises ModemError."""

    async def close(self) -> None: ...

    async def send(
        self,
        number: str,
        text: str,
        *,
        report: bool = False,
        message_id: str | None = None,
        validity_minutes: int | None = None,  # TP-VP (relative); None: the SMSC's default
        flash: bool = False,  # class 0
    ) -> SendResult:
        """Send one SMS (one AT+CMGS per part, serialised per modem)."""

    async def status(self) -> ModemStatus: ...

    async def sweep(self) -> int:
        """Read every stored message (AT+CMGL=4), hand it on, delete it; how many."""

    # --- what the modem line (agent/lines/modem.py, modem_care.py) reads besides ---

    connected: asyncio.Event  # set while the device answers; cleared when it is lost
    last_error: str | None  # the device's latest problem, in words, or None
    # Called when `connected` is set or cleared; set by the line.
    on_connection: Callable[[], None] | None
    # Called for an incoming call (the backend hangs up or not); set by the line.
    on_call: OnCall | None
    # The recovery ladder (agent/modem/ladder.py), or None for a backend without one.
    ladder: Ladder | None
    # Set once the ladder has nothing more to try (never set without a ladder).
    needs_person: asyncio.Event
    # Whether ussd() can work at all on this backend.
    can_ussd: bool

    @property
    def pin_rejected(self) -> bool:
        """The SIM refused the configured PIN: nothing may enter it again by itself."""
        ...

    async def climb(self, why: str | None = None) -> bool:
        """One rung up the recovery ladder after a failed open; True when something was
        reset (look again soon). False without a ladder."""
        ...

    async def ussd(self, code: str, timeout: float = 30.0) -> USSDAnswer:
        """One USSD request and the network's answer; ModemError when it cannot be
        asked (a backend without USSD says so here, see `can_ussd`)."""
        ...
