"""What a line takes (jobs) and gives back (events), for the spool lines.

These Structs are the spool lines' own words for the message lifecycle (dispatched →
sent → delivered, or failed with a reason; received); agent/lines/spool.py turns them into
the bridge protocol's events (bridge/protocol.py), so the spool code does not depend on the
wire format. Each name starts with `Spool` (SpoolSent, not Sent) so that it is never taken
for the protocol's event of the same idea; `SpoolBackend` is what smstools3's and SMSLib's
lines offer, wrapped by agent/lines/spool.py into the bridge's Line.

A line hands each event to an async callback and treats the event as delivered only
when the callback returns: the callback stores it durably (the bridge's outbox) or
raises, and then the line keeps the source (file, row) and offers the event again.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol, runtime_checkable

import msgspec


class SpoolJob(msgspec.Struct, frozen=True, kw_only=True):
    """One outbound message. `id` is chosen by the server and travels with the job."""

    id: str
    to: str
    text: str
    report: bool = False
    flash: bool = False
    validity_minutes: int | None = None


class SpoolDispatched(msgspec.Struct, frozen=True, kw_only=True, tag="dispatched"):
    """The line's peer (smsd, SMSServer) holds the job durably."""

    line: str
    job_id: str


class SpoolSent(msgspec.Struct, frozen=True, kw_only=True, tag="sent"):
    line: str
    job_id: str
    at: datetime | None  # local time, as the peer wrote it
    message_ref: int | None  # TP-MR, to match a later status report
    modem: str | None


class SpoolDelivered(msgspec.Struct, frozen=True, kw_only=True, tag="delivered"):
    line: str
    job_id: str | None  # None: a report for no job this line knows
    to: str
    message_ref: int | None
    status: int | None  # TP-ST
    at: datetime | None


class SpoolFailed(msgspec.Struct, frozen=True, kw_only=True, tag="failed"):
    """`reason` is for machines (`cms-error:38`, `rejected`, `not-delivered:70`, …),
    `detail` is the peer's own text for people."""

    line: str
    job_id: str | None
    reason: str
    detail: str
    at: datetime | None = None


class SpoolReceived(msgspec.Struct, frozen=True, kw_only=True, tag="received"):
    line: str
    source_id: str  # unique within the line (spool file name, table row id)
    sender: str
    text: str | None  # None for binary messages
    data_hex: str | None = None  # binary user data
    sent_at: datetime | None = None  # sender's timestamp
    received_at: datetime | None = None
    modem: str | None = None
    incomplete: bool = False  # parts of a multipart message are missing


class SpoolProblem(msgspec.Struct, frozen=True, kw_only=True, tag="problem"):
    """Something a person should look at; nothing was lost (`kept_at` says where)."""

    line: str
    detail: str
    kept_at: str | None = None


SpoolEvent = (
    SpoolDispatched | SpoolSent | SpoolDelivered | SpoolFailed | SpoolReceived | SpoolProblem
)
SpoolEventCallback = Callable[[SpoolEvent], Awaitable[None]]


class SpoolHealth(msgspec.Struct, frozen=True, kw_only=True):
    line: str
    kind: str  # gateway type: "smstools", "smslib"
    running: bool
    pending: int  # jobs handed over and not yet sent/failed
    can_know: tuple[str, ...]  # which outcomes this line can report, as configured
    cannot_know: tuple[str, ...]  # and which not, with the reason
    last_error: str | None = None


@runtime_checkable
class SpoolBackend(Protocol):
    """The small interface a bridge drives; both spool lines implement it."""

    name: str

    async def start(self) -> None: ...

    async def submit(self, job: SpoolJob) -> None:
        """Returns once the job is durably with the peer (a SpoolDispatched event follows)."""

    def health(self) -> SpoolHealth: ...

    async def stop(self) -> None: ...


def classify_fail_reason(text: str) -> str:
    """Machine code for an smsd `Fail_reason:` (docs/smstools3.md §4.2) or an
    SMSLib failure: modem answers keep their number, file problems are `rejected`."""
    t = text.strip()
    # smsd 3.1.21 appends its explanation: "+CMS ERROR: 38 (Network out of order)".
    m = re.match(r"\+(CMS|CME) ERROR: *(\d+)", t)
    if m:
        return f"{m.group(1).lower()}-error:{m.group(2)}"
    if t == "ERROR":
        return "modem-error"
    if t == "Modem initialization failed":
        return "modem-unavailable"
    if t in ("Unknown", ""):
        return "unknown"
    return "rejected"
