"""Reassembly of concatenated SMS parts, sans-I/O: the caller passes the clock.

Parts arrive in any order and sometimes twice. A set is keyed by sender, reference
kind (8- or 16-bit: different keys, TS 23.040), reference and total. A set that stays
incomplete for `timeout` seconds is given up: what arrived is delivered, marked
incomplete, so nothing that reached the modem is lost.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from .pdu import Deliver

DEFAULT_TIMEOUT = 24 * 3600.0  # smsd's ic_purge_hours default

_Key = tuple[str, int, int, int]


class Message(msgspec.Struct, frozen=True):
    """A whole incoming message, or what arrived of it."""

    sender: str
    text: str
    timestamp: datetime  # SC time stamp of the earliest part received
    parts: list[Deliver]  # in sequence order
    total: int
    complete: bool
    missing: list[int] = []  # 1-based sequence numbers that never arrived


class _Pending:
    __slots__ = ("first_seen", "parts")

    def __init__(self, now: float) -> None:
        self.first_seen = now
        self.parts: dict[int, Deliver] = {}


def _assemble(parts: dict[int, Deliver], total: int) -> Message:
    ordered = [parts[i] for i in sorted(parts)]
    missing = [i for i in range(1, total + 1) if i not in parts]
    return Message(
        sender=ordered[0].sender,
        text="".join(p.text for p in ordered),
        timestamp=min(p.timestamp for p in ordered),
        parts=ordered,
        total=total,
        complete=not missing,
        missing=missing,
    )


class Reassembler:
    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.timeout = timeout
        self._pending: dict[_Key, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def feed(self, part: Deliver, now: float) -> Message | None:
        """Add a part; returns the whole message when this part completes it."""
        c = part.concat
        if c is None or c.total <= 1:
            return _assemble({1: part}, 1)
        if not 1 <= c.sequence <= c.total:
            # A part that cannot belong anywhere is still a message: deliver it alone.
            return Message(part.sender, part.text, part.timestamp, [part], c.total, False, [])
        key = (part.sender, c.bits, c.reference, c.total)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(now)
        pending.parts.setdefault(c.sequence, part)  # a repeated part is dropped
        if len(pending.parts) < c.total:
            return None
        del self._pending[key]
        return _assemble(pending.parts, c.total)

    def expire(self, now: float) -> list[Message]:
        """Give up on sets older than the timeout; returns what they hold, incomplete."""
        done = [k for k, p in self._pending.items() if now - p.first_seen >= self.timeout]
        return [_assemble(self._pending.pop(k).parts, k[3]) for k in done]

    def flush(self) -> list[Message]:
        """Everything still pending, incomplete (e.g. at shutdown, to persist it)."""
        out = [_assemble(p.parts, k[3]) for k, p in self._pending.items()]
        self._pending.clear()
        return out
