"""Incoming calls of one modem, without I/O: RING / +CRING / +CLIP in, "hang up now"
and "report this call" out. The driver owns the clock and the port.

A call is RING (or +CRING: VOICE after AT+CRC=1) repeated every few seconds, each
followed by +CLIP with the caller's number once AT+CLIP=1 is set (27.007 §6.11,
§7.18). It is hung up at its first +CLIP (or CLIP_WAIT after a RING without one),
once; a RING that was already on its way after the hang-up belongs to the same call.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

CLIP_WAIT = 0.5  # seconds after RING for +CLIP before hanging up without the number
ECHO = 3.0  # seconds after a hang-up in which a RING is still the old call


class HangUp(msgspec.Struct, frozen=True):
    delay: float  # seconds from now


class CallReport(msgspec.Struct, frozen=True):
    number: str  # "" when the network withheld it
    when: datetime  # the first ring


class CallTracker:
    def __init__(self, reject: bool) -> None:
        self.reject = reject
        self._call: tuple[str | None, datetime] | None = None
        self._ended_at = -1e9
        self.seen = 0

    @property
    def active(self) -> bool:
        return self._call is not None

    def ring(self, name: str, args: list[str], now: float, wall: datetime) -> HangUp | None:
        """A RING, +CRING or +CLIP; what to do about it (None: nothing yet)."""
        number = args[0] if name == "+CLIP" and args else None
        if self._call is None:
            if now - self._ended_at < ECHO:
                return None
            self._call = (number, wall)
        elif number and self._call[0] is None:
            self._call = (number, self._call[1])
        if not self.reject:
            return None  # it rings until the caller gives up (NO CARRIER): reported then
        return HangUp(0.0 if self._call[0] else CLIP_WAIT)

    def hung_up(self, now: float) -> CallReport | None:
        """The hang-up command went out (answered or not): the call is over."""
        self._ended_at = now
        return self._over()

    def ended(self) -> CallReport | None:
        """NO CARRIER: the caller gave up first."""
        return self._over()

    def _over(self) -> CallReport | None:
        if self._call is None:
            return None
        (number, when), self._call = self._call, None
        self.seen += 1
        return CallReport(number or "", when)
