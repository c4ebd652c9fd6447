"""The agent ↔ server protocol: one msgspec Struct per frame, a tagged union, JSON text
frames over a WebSocket. Both halves import this module; it is the only definition.

Flow (bridge/agent_session.py and bridge/server_session.py are the two sides):

    agent                                server
      Hello(agent, protocol, lines) ──►
                                    ◄── Welcome(protocol, heartbeat)
                                    ◄── Job(id, line, to, text, ...)
      JobAck(id, accepted)          ──►     (after the job is on the agent's disk)
      Dispatched/Sent/Delivered/
      Failed/Received(event_id, ..) ──►
                                    ◄── EventAck(event_ids)   (after the server stored them)
      LineStatus(line, ...)         ──►
                                    ◄── LineSet(lines), ConfigPush(line, gateway, config)
      ConfigResult(line, applied)   ──►
      Ping / Pong, Error            ◄─►

Every job carries the server's message id, and every event an id chosen by the agent
(monotonic per agent): both sides drop what they have already seen, so resending after
a reconnect is always safe.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

import msgspec

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 64 * 1024  # a job is < 2 KiB; anything near this is a bug or an attack
MAX_TEXT_CHARS = 255 * 153  # the most a concatenated SMS can carry
# A job id as the server makes them (uuid4 hex) and as a file name may hold it on the
# agent: no separator, no dot first (so never "." or ".."), at most 64 characters.
JOB_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_JOB_ID = re.compile(JOB_ID_PATTERN)


def is_job_id(value: str) -> bool:
    """True when `value` has the protocol's job id form (safe as a file name)."""
    return _JOB_ID.fullmatch(value) is not None


class Frame(msgspec.Struct, tag_field="type", forbid_unknown_fields=False):
    """Base of every frame; unknown fields are ignored so a newer peer can add some."""


# --- handshake -----------------------------------------------------------------------


class LineInfo(msgspec.Struct, frozen=True):
    """A line the agent runs: one device or spool, named as the server's account says."""

    name: str
    kind: Literal["modem", "gammu", "smstools", "smslib"]


class Hello(Frame, tag="hello"):
    agent: str
    protocol: int = PROTOCOL_VERSION
    software: str = ""
    lines: list[LineInfo] = []
    capabilities: list[str] = []


class Welcome(Frame, tag="welcome"):
    protocol: int = PROTOCOL_VERSION
    server: str = ""
    heartbeat_seconds: float = 20.0


# --- jobs (server → agent) -----------------------------------------------------------


class Job(Frame, tag="job"):
    id: str  # the server's message id: a device never sends the same id twice
    line: str
    to: str
    text: str
    account: int | None = None
    report: bool = False
    flash: bool = False
    validity_minutes: int | None = None


class JobAck(Frame, tag="job-ack"):
    id: str
    accepted: bool = True
    reason: str | None = None  # machine code when refused, e.g. "outbox-full"
    detail: str | None = None


# --- events (agent → server) ---------------------------------------------------------


class PartRef(msgspec.Struct, frozen=True):
    part: int  # 1-based
    reference: int | None  # TP-MR from +CMGS, or smsd's Message_id


class Dispatched(Frame, tag="dispatched"):
    event_id: int
    job_id: str
    at: datetime


class Sent(Frame, tag="sent"):
    event_id: int
    job_id: str
    at: datetime
    parts: list[PartRef] = []


class Delivered(Frame, tag="delivered"):
    event_id: int
    job_id: str
    at: datetime
    part: int = 1
    status: int = 0  # TP-ST
    final: bool = True
    delivered: bool = True
    detail: str = ""


class Failed(Frame, tag="failed"):
    event_id: int
    job_id: str
    at: datetime
    reason: str  # machine-readable: "cms-error", "outcome-unknown", "refused", ...
    detail: str = ""  # for people
    code: int | None = None


class Received(Frame, tag="received"):
    event_id: int
    line: str
    sender: str
    text: str
    at: datetime  # SC time stamp, or when the device stored it
    received_at: datetime
    smsc: str | None = None
    complete: bool = True
    parts: int = 1


class CallMissed(Frame, tag="call-missed"):
    """An incoming voice call on a modem line, hung up (or given up by the caller)."""

    event_id: int
    line: str
    caller: str = msgspec.field(default="", name="from")  # "" when the network withheld it
    time: datetime | None = None


Event = Dispatched | Sent | Delivered | Failed | Received | CallMissed


class EventAck(Frame, tag="event-ack"):
    event_ids: list[int]


# --- lines and configuration ---------------------------------------------------------


class ModemInfo(msgspec.Struct, frozen=True, omit_defaults=True):
    manufacturer: str | None = None
    model: str | None = None
    firmware: str | None = None
    imei: str | None = None
    imsi: str | None = None
    sim: str | None = None  # "ready", "pin-required", "absent", ...
    registration: str | None = None  # "home", "roaming", "searching", "denied", ...
    operator: str | None = None
    signal_dbm: int | None = None
    signal_bars: int | None = None  # 0–5
    smsc: str | None = None
    storage_used: int | None = None
    storage_total: int | None = None
    family: str | None = None  # the modem profile the agent recognised, e.g. "Quectel EC25/EG25"


class SignalHistory(msgspec.Struct, frozen=True):
    """A modem line's last 24 h, one sample a minute from `start`: dBm (None: nothing
    measured) and one letter each for registration (h home, r roaming, s searching,
    d denied, n not registered, e emergency only, ? unknown, - nothing measured)."""

    start: datetime
    dbm: list[int | None]
    registration: str = ""
    step_seconds: int = 60


class LineStatus(Frame, tag="line-status"):
    line: str
    up: bool
    at: datetime
    detail: str = ""
    modem: ModemInfo | None = None
    queue: int = 0  # jobs on the agent's disk for this line, not yet handed over
    last_error: str | None = None
    # Modem lines only (issue 17), optional: the recovery ladder's rung ("ok", "reopen",
    # "reset", "usb", "needs-person") and what was tried, resets, the SIM's balance.
    rung: str | None = None
    recovery: str = ""
    last_reset: datetime | None = None
    resets_today: int = 0
    balance: float | None = None
    balance_at: datetime | None = None
    balance_low: bool = False
    signal_history: SignalHistory | None = None


class ConfigPush(Frame, tag="config"):
    line: str
    gateway: Literal["modem", "gammu", "smstools", "smslib"]
    config: dict[str, str]  # the account's keys, secrets included (only over this link)
    account: int | None = None
    poll_incoming: bool = True


class LineSet(Frame, tag="lines"):
    """Every line the server has for this agent (sent after Welcome and whenever its
    accounts change): the agent stops and forgets any other line it still runs."""

    lines: list[str]


class ConfigResult(Frame, tag="config-result"):
    line: str
    applied: bool
    detail: str = ""


# --- housekeeping --------------------------------------------------------------------


class Ping(Frame, tag="ping"):
    nonce: int = 0


class Pong(Frame, tag="pong"):
    nonce: int = 0


class Error(Frame, tag="error"):
    code: str  # "bad-frame", "too-big", "unsupported-protocol", "unauthorized", ...
    detail: str = ""


AnyFrame = (
    Hello
    | Welcome
    | Job
    | JobAck
    | Dispatched
    | Sent
    | Delivered
    | Failed
    | Received
    | CallMissed
    | EventAck
    | LineStatus
    | ConfigPush
    | LineSet
    | ConfigResult
    | Ping
    | Pong
    | Error
)

EVENT_TYPES = (Dispatched, Sent, Delivered, Failed, Received, CallMissed)


class ProtocolError(ValueError):
    """A frame that cannot be accepted. `code` goes back to the peer in an Error frame."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail

    def frame(self) -> Error:
        return Error(code=self.code, detail=self.detail)


_decoder = msgspec.json.Decoder(AnyFrame)
_encoder = msgspec.json.Encoder()


def encode(frame: Frame) -> bytes:
    return _encoder.encode(frame)


def decode(data: bytes | str) -> AnyFrame:
    """Decode one frame; raises ProtocolError naming what is wrong (msgspec's path)."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_FRAME_BYTES:
        raise ProtocolError("too-big", f"frame of {len(raw)} bytes exceeds {MAX_FRAME_BYTES}")
    try:
        frame = _decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ProtocolError("bad-frame", str(exc)) from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError("bad-frame", f"not a JSON frame: {exc}") from None
    if isinstance(frame, Job) and len(frame.text) > MAX_TEXT_CHARS:
        raise ProtocolError("too-big", f"job text of {len(frame.text)} characters")
    return frame
